#!/usr/bin/env python3
"""Print the pinned runtime dependency closure of the installed `backoffice` package.

Run with the python of the venv the tests ran in, from the repository root:
    .venv/bin/python infra/docker/lock-requirements.py > requirements.lock
The image installs with `pip install -c requirements.lock .`: the tested versions, and a
dependency added since (not in the file yet) still installs, unpinned.
"""

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HEADER = """\
# Versions the image installs (pip install -c): the runtime dependency closure of
# pyproject.toml as tested. A dependency missing here still installs, unpinned;
# regenerate with infra/docker/lock-requirements.py after changing dependencies."""


def closure(name: str, extras: tuple[str, ...], pins: dict[str, str]) -> None:
    dist = metadata.distribution(name)
    pins.setdefault(canonicalize_name(dist.metadata["Name"]), dist.version)
    for raw in dist.requires or []:
        requirement = Requirement(raw)
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in (extras or ("",))
        ):
            continue
        try:
            metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        if canonicalize_name(requirement.name) not in pins or requirement.extras:
            closure(requirement.name, tuple(requirement.extras), pins)


def main() -> None:
    pins: dict[str, str] = {}
    closure("backoffice", (), pins)
    pins.pop("backoffice", None)
    print(HEADER)
    for name in sorted(pins):
        print(f"{name}=={pins[name]}")


if __name__ == "__main__":
    main()
