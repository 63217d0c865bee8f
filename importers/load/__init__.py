"""Load Core, Portal and Cognito into the unified model: match, merge, write in bulk.

    core, portal   what each legacy table becomes (pure functions, no database)
    engine         plan, merge by field precedence, write with history and provenance
    state          the id maps and facts a load gathers, and its reading of the sources
    companies, people, content, access
                   the steps, one per kind of entity, in the order `run.STEPS` gives
    run            one import, in one transaction
"""
