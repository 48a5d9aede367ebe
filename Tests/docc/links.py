#!/usr/bin/env python3
"""Checks every link of the rendered DocC site (`make docs`): each page's references of type `link` must be
absolute, and one into this repository on GitHub must name a file or folder that exists here. Links
between pages and to symbols (`doc:`, ``Symbol``) are checked by DocC itself (warnings are errors).

    python3 Tests/docc/links.py .build/plugins/Swift-DocC/outputs/OTP.doccarchive
"""
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
repository = "https://github.com/swift-otp/swift-otp/"


def main() -> int:
    archive = pathlib.Path(sys.argv[1]) / "data"
    pages = list(archive.rglob("*.json"))
    if not pages:
        print(f"no rendered pages under {archive}")
        return 1
    broken, checked = [], 0
    for page in pages:
        for reference in (json.loads(page.read_text()).get("references") or {}).values():
            if not isinstance(reference, dict) or reference.get("type") != "link":
                continue
            url, checked = reference.get("url", ""), checked + 1
            where = page.relative_to(archive)
            if not re.match(r"^(https?|mailto):", url):
                broken.append(f"{where}: relative link '{url}' (it 404s on the site)")
            elif url.startswith(repository):
                path = re.sub(r"^(blob|tree|raw)/main/", "", url[len(repository):]).split("#")[0]
                if not (root / path).exists():
                    broken.append(f"{where}: '{url}' names {path}, which is not in the repository")
    for line in sorted(set(broken)):
        print(line)
    print(f"DocC links: {checked} checked in {len(pages)} pages, {len(set(broken))} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
