#!/usr/bin/env python3
"""Fails when modules of one crate import each other in a circle.

For every module, its child modules are siblings of one another: each sibling stands for its
whole subtree. A reference from a file in one sibling's subtree to an item in another's
(`crate::a::b`, `super::b`, `b::c` from the parent, re-exports followed) is an edge; a cycle
among siblings is an error. References between a module's own code and its children (a parent
re-exporting a child, a child using `super::Type`) are the normal shape of a module and are not
counted.

Usage: scripts/import-cycles.py [crates/*/src/lib.rs or main.rs ...]
"""
import re
import sys
from pathlib import Path

MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
INLINE_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*\{", re.M)
USE_STMT = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
PATH = re.compile(r"(?<![A-Za-z0-9_:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def strip(text):
    return STRING.sub('""', COMMENT.sub("", text))


def expand_use_tree(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (aliases and globs dropped)."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    brace = tree.find("{")
    if brace < 0:
        return [tree.removesuffix("::*")]
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rindex("}")]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    out = []
    for part in filter(None, parts):
        if part == "self":
            out.append(prefix.rstrip(":"))
        else:
            out.extend(expand_use_tree(prefix + part))
    return out


class Crate:
    def __init__(self, root):
        self.modules = {}  # module path (tuple) -> source text of its own file(s)
        self.reexports = {}  # module path -> {name: raw path}
        self.load(root, (), is_dir_owner=True)

    def load(self, file, path, is_dir_owner):
        text = strip(file.read_text())
        self.add_module(path, text)
        directory = file.parent if is_dir_owner else file.with_suffix("")
        for name in MOD_DECL.findall(text):
            for candidate, owner in ((directory / f"{name}.rs", False), (directory / name / "mod.rs", True)):
                if candidate.exists():
                    self.load(candidate, path + (name,), owner)
                    break

    def add_module(self, path, text):
        for match in INLINE_MOD.finditer(text):
            self.modules.setdefault(path + (match.group(1),), "")
        self.modules[path] = text
        exports = self.reexports.setdefault(path, {})
        for visibility, tree in USE_STMT.findall(text):
            if visibility:
                for used in expand_use_tree(tree):
                    exports[used.rsplit("::", 1)[-1]] = used

    def resolve(self, module, raw, depth=0):
        """The module path an item path used in `module` lands in, or None if outside the crate."""
        segments = raw.split("::")
        head = segments[0]
        if head == "crate":
            base, rest = (), segments[1:]
        elif head in ("self", "super"):
            base = module
            rest = segments
            while rest and rest[0] in ("self", "super"):
                if rest[0] == "super":
                    base = base[:-1]
                rest = rest[1:]
        elif module + (head,) in self.modules:
            base, rest = module, segments
        else:
            return None
        target = base
        for index, segment in enumerate(rest):
            if target + (segment,) in self.modules:
                target = target + (segment,)
                continue
            forwarded = self.reexports.get(target, {}).get(segment)
            if forwarded and depth < 8:
                landed = self.resolve(target, forwarded, depth + 1)
                if landed is not None:
                    return landed
            break
        return target

    def edges(self):
        for module, text in self.modules.items():
            for raw in PATH.findall(text):
                target = self.resolve(module, raw)
                if target is not None:
                    yield module, target


def sibling_cycles(crate):
    graphs = {}
    for source, target in crate.edges():
        common = 0
        while common < min(len(source), len(target)) and source[common] == target[common]:
            common += 1
        if common == len(source) or common == len(target):
            continue  # one contains the other: a parent and its own child
        parent = source[:common]
        graphs.setdefault(parent, {}).setdefault(source[common], set()).add(target[common])
    for parent, graph in sorted(graphs.items()):
        for cycle in find_cycles(graph):
            yield parent, cycle


def find_cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(roots):
    failed = False
    for root in map(Path, roots):
        crate = Crate(root)
        for parent, cycle in sibling_cycles(crate):
            failed = True
            where = "::".join(("crate",) + parent)
            print(f"{root}: modules of {where} import each other in a circle: {', '.join(cycle)}")
    return 1 if failed else 0


if __name__ == "__main__":
    roots = sys.argv[1:] or sorted(
        str(p) for p in Path("crates").glob("*/src/*.rs") if p.name in ("lib.rs", "main.rs")
    )
    sys.exit(main(roots))
