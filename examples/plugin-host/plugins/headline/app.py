"""A text filter in Python: drops comment lines (starting with #), turns lines that end
with ':' into headlines, and refuses lines longer than 200 characters."""

import wit_world
from wit_world.imports import host
from wit_world.types import Err


class WitWorld(wit_world.WitWorld):
    def filter(self, line: str) -> str | None:
        if line.startswith("#"):
            return None
        if len(line) > 200:
            raise Err(f"line of {len(line)} characters is too long")
        if line.endswith(":"):
            host.log(f"headline: {line[:-1]}")
            return "== " + line[:-1].upper() + " =="
        return line
