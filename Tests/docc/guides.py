#!/usr/bin/env python3
"""Writes the guides of docs/ into the DocC catalog (Sources/OTP/OTP.docc), with their links rewritten
for the rendered site: a link to another guide of the catalog becomes a DocC link (`doc:Name`), and a
link to any other file of the repository (benchmarks, errors, Examples/) becomes its address on GitHub.
docs/ stays the source: GitHub renders it as is, and the catalog gets a copy that works on the site.

    python3 Tests/docc/guides.py           # write the catalog's copies
    python3 Tests/docc/guides.py --check   # fail when a copy is not what docs/ gives (make test)
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
catalog = root / "Sources" / "OTP" / "OTP.docc"
repository = "https://github.com/swift-otp/swift-otp"

# guide in docs/ -> article name in the catalog
ARTICLES = {
    "architecture.md": "Architecture",
    "async.md": "AsyncFacade",
    "distribution.md": "DistributionGuide",
    "embedding.md": "Embedding",
    "genserver.md": "GenServerGuide",
    "getting-started.md": "GettingStarted",
    "migrating.md": "Migrating",
    "multicore.md": "MulticoreGuide",
    "observability.md": "ObservabilityGuide",
    "processes.md": "ProcessesGuide",
    "registry.md": "RegistryGuide",
    "statemachine.md": "StateMachineGuide",
    "supervision.md": "SupervisionGuide",
}
HEADER = "<!-- Generated from docs/{source} by Tests/docc/guides.py: edit docs/{source}, then run it. -->\n\n"
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def rewrite(source: str, text: str) -> str:
    def link(match: re.Match) -> str:
        bang, label, target = match.groups()
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return match.group(0)  # absolute (http, doc, mailto) or within the page
        path, _, anchor = target.partition("#")
        if not bang and path in ARTICLES:
            return f"[{label}](doc:{ARTICLES[path]})"
        resolved = (root / "docs" / path).resolve().relative_to(root)
        kind = "tree" if (root / resolved).is_dir() else ("raw" if bang else "blob")
        address = f"{repository}/{kind}/main/{resolved}" + (f"#{anchor}" if anchor else "")
        return f"{bang}[{label}]({address})"

    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append(line if fenced else LINK.sub(link, line))
    # The title stays the first line (DocC takes the article's title from it); the note follows it.
    title, _, rest = "".join(out).partition("\n")
    return title + "\n\n" + HEADER.format(source=source) + rest.lstrip("\n")


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for source, name in ARTICLES.items():
        wanted = rewrite(source, (root / "docs" / source).read_text())
        target = catalog / f"{name}.md"
        current = target.read_text() if target.is_file() and not target.is_symlink() else None
        if current == wanted:
            continue
        if check:
            stale.append(f"{target.relative_to(root)} (from docs/{source})")
        else:
            if target.is_symlink():
                target.unlink()
            target.write_text(wanted)
    if stale:
        print("The DocC catalog's guides are not what docs/ gives; run `python3 Tests/docc/guides.py`:")
        print("\n".join(f"  {s}" for s in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
