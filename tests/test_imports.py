"""The shape of the house: the library imports no script, and no module imports one that
imports it back, directly or through others (imports inside functions count too)."""
import ast

from helpers import ROOT


def project_modules():
    """{module name: its file} of the scripts, common.py, keras_model.py and the library."""
    found = {p.stem: p for p in ROOT.glob("*.py")}
    found.update({f"dcase_baseline.{p.stem}": p for p in (ROOT / "dcase_baseline").glob("*.py")
                  if p.stem != "__init__"})
    return found


def imports_of(path, known):
    """The project modules a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "dcase_baseline":
                found |= {f"dcase_baseline.{a.name}" for a in node.names
                          if f"dcase_baseline.{a.name}" in known}
            elif node.module in known:
                found.add(node.module)
    return found


def graph():
    known = project_modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def test_the_library_imports_no_script():
    for name, imported in graph().items():
        if name.startswith("dcase_baseline."):
            assert all(m.startswith("dcase_baseline.") for m in imported), (name, imported)


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    circles = []

    def visit(name, path):
        for other in sorted(edges[name]):
            if other in path:
                circles.append(path[path.index(other):] + [other])
            elif len(path) < len(edges):
                visit(other, path + [other])

    for start in sorted(edges):
        visit(start, [start])
    assert circles == []


def test_the_check_finds_a_circle(tmp_path):
    # the same walk on a graph with a circle through a function-local import
    a = tmp_path / "a.py"
    a.write_text("def f():\n    import b\n")
    (tmp_path / "b.py").write_text("from a import f\n")
    known = {"a": a, "b": tmp_path / "b.py"}
    assert imports_of(a, known) == {"b"} and imports_of(known["b"], known) == {"a"}
