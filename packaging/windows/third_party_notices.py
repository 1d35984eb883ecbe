#!/usr/bin/env python3
"""Writes THIRD-PARTY-NOTICES.txt (the MSI installs it beside cbcs.exe): the
licences of what the Windows build links statically, taken from the source
tarballs build-sysroot.sh built the sysroot from and, for the header-only
parts it takes from the Linux build's packages (fmt, spdlog), from Debian's
copyright files. Run it again when build-sysroot.sh's sources change:

    packaging/windows/third_party_notices.py > packaging/windows/THIRD-PARTY-NOTICES.txt

CBCS_WINDOWS_CACHE as in build-sysroot.sh (default ~/.cache/cbcs-windows)."""

import glob
import os
import re
import subprocess
import sys
import tarfile

CACHE = os.environ.get("CBCS_WINDOWS_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cbcs-windows")


def die(text):
    print(f"third_party_notices: {text}", file=sys.stderr)
    raise SystemExit(1)


def installed_version(package):
    """The upstream version: no epoch, no Debian revision."""
    v = subprocess.run(["dpkg-query", "-W", "-f=${source:Version}", package], capture_output=True,
                       text=True, check=True).stdout.strip()
    return re.sub(r"-[^-]*$", "", v.split(":", 1)[-1])


def from_tarball(source, member_pattern):
    """The newest cached tarball of a source package and one file of it."""
    tarballs = sorted(t for t in glob.glob(os.path.join(CACHE, "src", f"{source}_*.orig.tar.*"))
                      if not t.endswith(".asc") and "orig-" not in t)
    if not tarballs:
        die(f"no source tarball of {source} in {CACHE}/src (run packaging/windows/build-sysroot.sh)")
    with tarfile.open(tarballs[-1]) as tar:
        for member in tar.getmembers():
            if re.fullmatch(member_pattern, member.name):
                version = re.search(rf"{re.escape(source)}_(.+)\.orig\.tar", tarballs[-1]).group(1)
                return version, tar.extractfile(member).read().decode("utf-8")
    die(f"{tarballs[-1]} has no {member_pattern}")


def debian_license(package, name):
    """The 'License: <name>' field with its text of a DEP-5 copyright file, as plain text."""
    path = f"/usr/share/doc/{package}/copyright"
    with open(path) as fh:
        paragraphs = fh.read().split("\n\n")
    for p in paragraphs:
        lines = p.strip("\n").split("\n")
        # Stand-alone, or the last field of a Files paragraph.
        for i, line in enumerate(lines):
            if line == f"License: {name}" and i + 1 < len(lines) and lines[i + 1].startswith(" "):
                text = []
                for more in lines[i + 1:]:
                    if not more.startswith(" "):
                        break
                    text.append("" if more == " ." else more[1:])
                return "\n".join(text) + "\n"
    die(f"{path} has no License: {name} paragraph")


def debian_copyright(package):
    with open(f"/usr/share/doc/{package}/copyright") as fh:
        m = re.search(r"^Files: \*\nCopyright: (.*?)\n(?=\S)", fh.read(), re.M | re.S)
    return "Copyright " + re.sub(r"\s+", " ", m.group(1)) if m else ""


def sqlite_blessing():
    version, header = from_tarball("sqlite3", r"[^/]+/src/sqlite\.h\.in")
    m = re.search(r"(\*\* The author disclaims.*?)\n\*{5,}", header, re.S)
    return version, "\n".join(re.sub(r"^\*\* ?", "", line) for line in m.group(1).split("\n")) + "\n"


def main():
    parts = []
    v, text = from_tarball("openssl", r"[^/]+/LICENSE\.txt")
    parts.append(("OpenSSL", v, "Apache License 2.0", text))
    v, text = from_tarball("actor-framework", r"[^/]+/LICENSE")
    parts.append(("CAF, the C++ Actor Framework", v, "BSD 3-Clause", text))
    v, text = from_tarball("boost1.74", r"[^/]+/LICENSE_1_0\.txt")
    parts.append(("Boost (Asio, Beast, Program_options)", v, "Boost Software License 1.0", text))
    v, text = from_tarball("simdjson", r"[^/]+/LICENSE")
    parts.append(("simdjson", v, "Apache License 2.0", text))
    parts.append(("{fmt}", installed_version("libfmt-dev"), "MIT with its optional exception",
                  debian_copyright("libfmt-dev") + "\n\n" +
                  debian_license("libfmt-dev", "Expat with embedded exception")))
    parts.append(("spdlog", installed_version("libspdlog-dev"), "MIT",
                  debian_copyright("libspdlog-dev") + "\n\n" + debian_license("libspdlog-dev", "Expat")))
    v, text = from_tarball("pugixml", r"[^/]+/LICENSE\.md")
    parts.append(("pugixml", v, "MIT", text))
    v, text = sqlite_blessing()
    parts.append(("SQLite", v, "public domain", text))

    out = ["Third-party software in cbcs for Windows",
           "",
           "cbcs.exe (and the installer's custom action DLL, with some of them) is linked",
           "statically with the libraries below; each one's licence follows. cbcs itself is",
           "under the Apache License 2.0 (LICENSE.txt).",
           ""]
    out += [f"  {name} {version} ({licence})" for name, version, licence, _ in parts]
    for name, version, licence, text in parts:
        out += ["", "=" * 78, f"{name} {version}: {licence}", "=" * 78, "", text.strip("\n")]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
