"""Which project models the built-in roles act on, as content."""

PROJECT_ROLE_MODELS = {"content": ["project", "document"]}
