"""Fetch the DCASE 2022 Task 2 data from Zenodo into the folders of baseline.yaml.

    python download.py dev                 # development set -> dev_directory
    python download.py eval                # additional training and evaluation test data
                                           #   -> eval_directory
    python download.py dev -m fan valve    # only these machine types
    python download.py dev --list          # what would be fetched, with sizes

The file list, sizes and MD5 checksums come from each Zenodo record's API
(<server>/api/records/<id>). Archives are kept under <data folder>/.downloads, verified, and not
fetched again once complete; each is unpacked through a temporary folder, so that a machine
folder appears whole or not at all, and clips already there are never overwritten.
"""
import argparse
import logging
import re
import tempfile
import zipfile
from pathlib import Path

import common as com
from errors import BaselineError

RECORDS = {   # mode -> Zenodo records and the pattern of their archives' names (group: machine)
    "dev": [("6355122", r"dev_(?P<machine>.+)\.zip")],
    "eval": [("6462969", r"eval_data_(?P<machine>.+)_train\.zip"),
             ("6586456", r"eval_data_(?P<machine>.+)_test\.zip")],
}
SPLITS = ("train", "test")


def record_files(server, record):
    """[{key, size, md5, url}] of a Zenodo record, from its records API."""
    import requests
    url = f"{server.rstrip('/')}/api/records/{record}"
    try:
        response = requests.get(url, timeout=60)
        response.raise_for_status()
        entries = response.json()["files"]
        return [{"key": e["key"], "size": int(e["size"]), "url": e["links"]["self"],
                 "md5": e["checksum"].removeprefix("md5:")} for e in entries]
    except requests.RequestException as error:
        raise BaselineError(f"cannot fetch the file list of record {record} from {url}: "
                            f"{error}; check the network or --server") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BaselineError(f"{url} did not answer with a Zenodo record (a 'files' list with "
                            f"key, size, checksum and links.self); check --server") from None


def archives(server, mode, machines=None):
    """The archives of a mode, each with the machine type it holds: [{key, size, md5, url,
    machine}], optionally only those of the named machine types."""
    found = []
    for record, pattern in RECORDS[mode]:
        for entry in record_files(server, record):
            match = re.fullmatch(pattern, entry["key"])
            if match:
                found.append(dict(entry, machine=match["machine"], record=record))
    if machines:
        known = sorted({a["machine"] for a in found})
        unknown = [m for m in machines if m not in known]
        if unknown:
            raise BaselineError(f"unknown machine type {', '.join(unknown)}; the {mode} records "
                                f"hold {', '.join(known)}")
        found = [a for a in found if a["machine"] in machines]
    return found


def fetch(archive, folder):
    """The verified archive in folder, downloaded (with a progress bar) unless already there."""
    import pooch
    import requests
    pooch.get_logger().setLevel(logging.WARNING)     # our own log line names the archive
    path = folder / archive["key"]
    try:
        return Path(pooch.retrieve(archive["url"], known_hash=f"md5:{archive['md5']}",
                                   fname=archive["key"], path=folder, progressbar=True))
    except ValueError as error:   # pooch: the downloaded file's hash is not the record's
        found = re.search(r"but got ([0-9a-f]{32})", str(error))
        raise BaselineError(f"{path}: MD5 checksum {found[1] if found else 'unknown'} does not "
                            f"match the record's {archive['md5']}; nothing of it was unpacked, "
                            f"run again to fetch it anew") from None
    except requests.RequestException as error:
        raise BaselineError(f"cannot download {archive['url']}: {error}; nothing of it was "
                            f"kept, run again to fetch it anew") from None


def machine_root(members, archive_name):
    """The folder inside an archive that holds train/ or test/ (the machine folder), refusing
    members that would be written outside the target."""
    roots = set()
    for member in members:
        parts = Path(member).parts
        if member.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", member):
            raise BaselineError(f"archive {archive_name} would write outside the target folder "
                                f"({member}); not unpacked")
        for i, part in enumerate(parts[:-1]):
            if part in SPLITS and i > 0:
                roots.add(parts[:i])
                break
    if len(roots) != 1:
        raise BaselineError(f"archive {archive_name} does not hold one machine folder with "
                            f"train/ or test/; not unpacked")
    return Path(*roots.pop())


def move_missing(source, target):
    """Move what target lacks from source into it: whole folders at once where target has
    none, so that no half-filled folder appears; existing files are kept."""
    if not target.exists():
        source.rename(target)
        return
    if source.is_dir() and target.is_dir():
        for child in sorted(source.iterdir()):
            move_missing(child, target / child.name)


def unpack(zip_path, root):
    """Unpack an archive's machine folder into root through a temporary folder beside it."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            inner = machine_root(archive.namelist(), zip_path.name)
            with tempfile.TemporaryDirectory(prefix=f".unpack-{zip_path.stem}-", dir=root) as tmp:
                archive.extractall(tmp)
                move_missing(Path(tmp) / inner, root / inner.name)
    except zipfile.BadZipFile as error:
        raise BaselineError(f"{zip_path} is not a readable zip archive ({error}); delete it "
                            f"and run again") from None
    return inner.name


def describe(archives_, root):
    lines = [f"{a['key']:<32} {a['size'] / 1e6:10.1f} MB  -> {root / a['machine']}"
             for a in archives_]
    lines.append(f"{'total':<32} {sum(a['size'] for a in archives_) / 1e6:10.1f} MB")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(RECORDS),
                        help="dev: development set; eval: additional training and evaluation "
                             "test data")
    parser.add_argument("-c", "--config", default="baseline.yaml",
                        help="configuration whose dev_directory / eval_directory receive the data")
    parser.add_argument("-m", "--machine", nargs="+", metavar="NAME",
                        help="only these machine types (default: all of the records)")
    parser.add_argument("--list", action="store_true", help="print what would be fetched")
    parser.add_argument("--server", default="https://zenodo.org",
                        help="a server with Zenodo's records API (default: %(default)s)")
    args = parser.parse_args(argv)
    config, _ = com.load_config(args.config)
    root = Path(config[f"{args.mode}_directory"])
    todo = archives(args.server, args.mode, args.machine)
    if args.list:
        print(describe(todo, root))
        return
    com.check_writable(root, f"{args.mode}_directory")
    downloads = root / ".downloads"
    for i, archive in enumerate(todo, 1):
        done = downloads / f"{archive['key']}.{archive['md5']}.unpacked"
        if done.exists():
            com.log.info("[%d/%d] %s: already fetched and unpacked", i, len(todo), archive["key"])
            continue
        com.log.info("[%d/%d] %s (%.1f MB)", i, len(todo), archive["key"], archive["size"] / 1e6)
        zip_path = fetch(archive, downloads)
        machine = unpack(zip_path, root)
        done.touch()
        com.log.info("%s -> %s", archive["key"], root / machine)
    com.log.info("data of %d archives in %s", len(todo), root)


if __name__ == "__main__":
    com.setup_logging(None)
    com.run_main(main)
