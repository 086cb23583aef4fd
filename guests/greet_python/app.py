"""A `kiln-test:greet` provider in Python (componentize-py): greet(name) is
`Hello from Python, NAME!`."""

from wit_world import exports


class Greeter(exports.Greeter):
    def greet(self, name: str) -> str:
        return f"Hello from Python, {name}!"
