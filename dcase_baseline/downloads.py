"""Downloading a DCASE year's data from Zenodo (download.py): each record's archives, fetched,
verified by their MD5 sums, kept and unpacked into the data folder, as download.py's help and
docs/download.md describe.
"""
import json
import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

from dcase_baseline import filenames, safe_io
from dcase_baseline.errors import BaselineError

log = logging.getLogger("baseline")

SETS = {"dev": "development set", "eval": "additional training and evaluation test data"}
# a re-issue: <name>_r<N>.zip replaces <name>.zip (revision 1)
REISSUE = re.compile(r"(?P<stem>.+)_r(?P<revision>[0-9]+)(?P<suffix>\.zip)")


def heading(year, mode):
    """The line that names the year, the set and its records."""
    return (f"DCASE {year.year}, {SETS[mode]}: records "
            f"{', '.join(record for record, _ in year.zenodo[mode])}")


def machine_of(key, patterns):
    """(machine type, revision) of an archive's name, (None, None) for other files."""
    reissue = REISSUE.fullmatch(key)
    name, revision = ((reissue["stem"] + reissue["suffix"], int(reissue["revision"]))
                      if reissue else (key, 1))
    for pattern in patterns:
        match = re.fullmatch(pattern, name)
        if match:
            return match["machine"], revision
    return None, None


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


class Archive(NamedTuple):
    """An archive of a Zenodo record, with the machine type it holds."""
    key: str                # its file name
    size: int
    md5: str
    url: str
    machine: str
    record: str
    revision: int           # 2 for <name>_r2.zip, else 1
    splits: tuple           # the folders that mark its machine folder (Year.archive_folders)
    replaces: tuple = ()    # the Archives of earlier issues it replaces


def archives(server, mode, year, machines=None):
    """The Archives of a year's mode, optionally only those of the named machine types.
    Of a record's archives of one machine type only the latest re-issue is taken (its place in
    the list is the first one's); replaces lists those it replaces."""
    chosen = {}
    for record, patterns in year.zenodo[mode]:
        for entry in record_files(server, record):
            machine, revision = machine_of(entry["key"], patterns)
            if machine is None:
                continue
            archive = Archive(**entry, machine=machine, record=record, revision=revision,
                              splits=year.archive_folders)
            held = chosen.get((record, machine))
            if held is None:
                chosen[(record, machine)] = archive
            elif revision > held.revision:
                chosen[(record, machine)] = archive._replace(
                    replaces=held.replaces + (held._replace(replaces=()),))
            else:
                chosen[(record, machine)] = held._replace(replaces=held.replaces + (archive,))
    found = list(chosen.values())
    if machines:
        known = sorted({a.machine for a in found})
        unknown = [m for m in machines if m not in known]
        if unknown:
            raise BaselineError(f"unknown machine type {', '.join(unknown)}; the {mode} records "
                                f"hold {', '.join(known)}")
        found = [a for a in found if a.machine in machines]
    return found


def fetch(archive, folder):
    """The verified archive in folder: one already there is verified and used as it is (no
    download, no progress bar); otherwise it is downloaded with a progress bar."""
    import pooch
    import requests
    pooch.get_logger().setLevel(logging.WARNING)     # our own log line names the archive
    path = folder / archive.key
    if path.is_file():
        found = safe_io.file_digest(path, "md5")
        if found == archive.md5:
            log.info("%s: found in %s, MD5 verified; not downloaded", archive.key, folder)
            return path
        log.info("%s: MD5 checksum %s does not match the record's %s; downloading it anew",
                 path, found, archive.md5)
    try:
        return Path(pooch.retrieve(archive.url, known_hash=f"md5:{archive.md5}",
                                   fname=archive.key, path=folder, progressbar=True))
    except ValueError as error:   # pooch: the downloaded file's hash is not the record's
        found = re.search(r"but got ([0-9a-f]{32})", str(error))
        raise BaselineError(f"{path}: MD5 checksum {found[1] if found else 'unknown'} does not "
                            f"match the record's {archive.md5}; nothing of it was unpacked, "
                            f"run again to fetch it anew") from None
    except requests.RequestException as error:
        raise BaselineError(f"cannot download {archive.url}: {error}; nothing of it was "
                            f"kept, run again to fetch it anew") from None


def machine_root(members, archive_name, splits):
    """The folder inside an archive that holds train/ or test/ (the machine folder; 2021:
    train/, source_test/ or target_test/), refusing members that would be written outside the
    target."""
    roots = set()
    for member in members:
        parts = Path(member).parts
        if member.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", member):
            raise BaselineError(f"archive {archive_name} would write outside the target folder "
                                f"({member}); not unpacked")
        for i, part in enumerate(parts[:-1]):
            if part in splits and i > 0:
                roots.add(parts[:i])
                break
    if len(roots) != 1:
        named = [f"{split}/" for split in splits]
        raise BaselineError(f"archive {archive_name} does not hold one machine folder with "
                            f"{', '.join(named[:-1])} or {named[-1]}; not unpacked")
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


def plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def all_files(count):
    return "its 1 file" if count == 1 else f"all {count} files"


def member_files(archive, inner):
    """{path relative to the data folder: zip member} of the files of the machine folder."""
    files = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        try:
            relative = Path(info.filename).relative_to(inner)
        except ValueError:        # outside the machine folder: not unpacked
            continue
        files[(Path(inner.name) / relative).as_posix()] = info
    return files


def missing_files(files, root):
    """Those of files (relative to root) that are not on disk; anything there, even a link or a
    file the user changed, counts as there."""
    return [name for name in files if not os.path.lexists(root / name)]


def unpack(zip_path, root, splits):
    """Unpack what root lacks of an archive's machine folder, through a temporary folder beside
    it: (machine folder, its files relative to root, how many were missing and are now there).
    Files already there are never overwritten."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            inner = machine_root(archive.namelist(), zip_path.name, splits)
            files = member_files(archive, inner)
            missing = missing_files(files, root)
            if missing:
                with tempfile.TemporaryDirectory(prefix=f".unpack-{zip_path.stem}-",
                                                 dir=root) as tmp:
                    for name in missing:
                        archive.extract(files[name], tmp)
                    move_missing(Path(tmp) / inner, root / inner.name)
    except zipfile.BadZipFile as error:
        raise BaselineError(f"{zip_path} is not a readable zip archive ({error}); delete it "
                            f"and run again") from None
    return root / inner.name, sorted(files), len(missing)


def marker_path(archive, root):
    return filenames.unpacked_marker(root, archive.key, archive.md5)


def read_marker(marker):
    """The files (relative to the data folder) listed in a done marker; None where there is no
    marker or it lists none (written by an older download.py)."""
    try:
        files = json.loads(marker.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if isinstance(files, list) and files and all(isinstance(f, str) for f in files):
        return files
    return None


def write_marker(marker, archive, files):
    """The done marker, with the archive's list of files, written whole or not at all."""
    safe_io.save_json(marker, {"archive": archive.key, "md5": archive.md5,
                               "files": files})


# what a run does with an archive (Step.action)
PRESENT, RESTORE, UNPACK, FETCH = "present", "restore", "unpack", "fetch"


class Step(NamedTuple):
    """What a run does with an archive, from what is on disk."""
    action: str         # PRESENT: unpacked before and every file of it is there; RESTORE:
                        # unpacked before, files are missing and the archive is kept (verified
                        # again before use); UNPACK: the archive is in .downloads but was not
                        # unpacked (it is verified first); FETCH: download it
    files: object       # its files relative to the data folder; None: unknown
    missing: object     # those of them not on disk; None: unknown
    kept: Path          # where the archive is kept
    marker: Path        # its done marker
    folder: Path        # the machine folder it fills
    note: str           # why an archive unpacked before is fetched or unpacked again


def plan(archive, root):
    """The Step of an archive (nothing is fetched here)."""
    marker, kept = marker_path(archive, root), filenames.downloads_folder(root) / archive.key
    kept_whole = kept.is_file() and kept.stat().st_size == archive.size
    unpacked = marker.is_file()
    files = read_marker(marker) if unpacked else None
    if unpacked and files is None and kept_whole:    # an older marker: the list of the archive
        try:
            with zipfile.ZipFile(kept) as opened:
                files = sorted(member_files(opened, machine_root(
                    opened.namelist(), kept.name, archive.splits)))
        except (zipfile.BadZipFile, BaselineError, OSError):
            files = None
    missing = missing_files(files, root) if files is not None else None
    folder = root / (Path(files[0]).parts[0] if files else archive.machine)
    if unpacked and missing == []:
        return Step(PRESENT, files, missing, kept, marker, folder, "")
    if unpacked and kept_whole:
        return Step(RESTORE, files, missing, kept, marker, folder, "")
    note = ""
    if unpacked:
        note = (f"{plural(len(missing), 'file')} missing in {folder} and the archive is no "
                f"longer in {kept.parent}" if missing is not None else
                f"its list of files is unknown (unpacked by an older download.py) and the "
                f"archive is no longer in {kept.parent}")
    return Step(UNPACK if kept_whole else FETCH, files, missing, kept, marker, folder, note)


def replaced_markers(old, root):
    """The done markers of a replaced archive in root (any version of it)."""
    return filenames.unpacked_markers(root, old.key)


def check_replaced(archive, root, folder, whole):
    """After a re-issued archive is unpacked or found present: where files of an archive it
    replaces were unpacked before, say so, unless the re-issue was just unpacked whole (no
    file was there), in which case the replaced archive's markers no longer describe folder
    and are removed."""
    for old in archive.replaces:
        markers = replaced_markers(old, root)
        if markers and whole:
            for marker in markers:
                marker.unlink()
        elif markers:
            log.warning("%s: %s holds files unpacked from %s, which %s replaces; they are "
                        "kept as they are (none is overwritten): delete %s and run again "
                        "to have the files of %s only", archive.key, folder, old.key,
                        archive.key, folder, archive.key)


def describe(archives_, root):
    """--list: each archive with its size, machine folder and what a run would do with it, and
    a last line that says how much needs fetching, or that nothing does."""
    if not archives_:
        return "the records list no archives; nothing needs fetching"
    lines, to_fetch, local = [], [], 0
    width = max([32] + [len(a.key) + 1 for archive in archives_     # 32: 2022's names
                        for a in [archive, *archive.replaces]])
    for archive in archives_:
        step = plan(archive, root)
        lost = "files" if step.missing is None else plural(len(step.missing), "file")
        if step.action == PRESENT:
            state = "present"
        elif step.action == RESTORE:
            state, local = f"{lost} missing, to restore from .downloads", local + 1
        elif step.action == UNPACK:
            state, local = "in .downloads, to verify and unpack", local + 1
        else:
            to_fetch.append(archive)
            state = ("to fetch" if not step.note else "to fetch again to check its files"
                     if step.missing is None else f"{lost} missing, to fetch again")
        lines.append(f"{archive.key:<{width}} {archive.size / 1e6:10.1f} MB  -> "
                     f"{step.folder}  {state}")
        for old in archive.replaces:
            lines.append(f"{old.key:<{width}} {old.size / 1e6:10.1f} MB  replaced by "
                         f"{archive.key}; not fetched" +
                         (f"; {step.folder} holds files unpacked from it: delete it and run "
                          f"again to have the files of {archive.key} only"
                          if replaced_markers(old, root) else ""))
    total = sum(a.size for a in archives_) / 1e6
    if to_fetch:
        lines.append(f"{'total':<{width}} {sum(a.size for a in to_fetch) / 1e6:10.1f} MB  to "
                     f"fetch: {len(to_fetch)} of {plural(len(archives_), 'archive')} "
                     f"({total:.1f} MB in all)")
    else:
        every = ("the 1 archive is" if len(archives_) == 1 else
                 f"all {len(archives_)} archives are")
        lines.append(f"nothing needs fetching: {every} in {root} ({total:.1f} MB)" +
                     (f"; {plural(local, 'archive')} to unpack or restore from .downloads, "
                      f"run without --list"
                      if local else ""))
    return "\n".join(lines)


def fetch_all(todo, root):
    """Fetch, verify and unpack the Archives into the data folder root, each as its Step
    says; files already there are never overwritten."""
    kept = filenames.downloads_folder(root)
    for i, archive in enumerate(todo, 1):
        step = plan(archive, root)
        head = f"[{i}/{len(todo)}] {archive.key}"
        folder = step.folder
        for old in archive.replaces:
            log.info("%s: re-issued, replaces %s (not fetched)", head, old.key)
        if step.action == PRESENT:
            log.info("%s: already fetched and unpacked, %s present in %s", head,
                     all_files(len(step.files)), folder)
            if read_marker(step.marker) is None:       # an older marker: add the list
                write_marker(step.marker, archive, step.files)
            check_replaced(archive, root, folder, whole=False)
            continue
        if step.action == RESTORE:
            log.info("%s: %s missing in %s; restoring from the kept %s", head,
                     "files may be" if step.missing is None else
                     plural(len(step.missing), "file"), folder, step.kept)
        elif step.note:
            log.info("%s: %s; fetching it again", head, step.note)
        if step.action != RESTORE:
            log.info("%s (%.1f MB)", head, archive.size / 1e6)
        zip_path = fetch(archive, kept)      # verified again, fetched anew if changed
        folder, files, restored = unpack(zip_path, root, archive.splits)
        write_marker(step.marker, archive, files)
        there = len(files) - restored
        if restored == 0:
            log.info("%s: %s already in %s; none overwritten", archive.key,
                     all_files(len(files)), folder)
        elif there == 0 and step.action in (FETCH, UNPACK) and not step.note:
            log.info("%s -> %s (%s)", archive.key, folder, plural(len(files), "file"))
        else:
            log.info("restored %s of %s in %s%s", plural(restored, "missing file"),
                     archive.key, folder,
                     f"; {plural(there, 'file')} already there left as they are"
                     if there else "")
        check_replaced(archive, root, folder, whole=there == 0)
