"""The encoding and delimiter of a contract CSV: stated, or detected, and a UTF-8 comma copy.

The contract is comma-separated UTF-8, but Excel in most of Europe saves Windows-1252 text
separated by semicolons, and its "Unicode text" is UTF-16 separated by tabs. Such a file in the
contract's own columns is read rather than refused: the loader reads a UTF-8, comma-separated
copy (kept beside the file's staged chunks), and the load's message says what was assumed.

Detection is deliberately narrow, so that a guess is never silent and never loose:
- a UTF-16 byte-order mark means UTF-16;
- a file that is valid UTF-8 is UTF-8;
- otherwise a file that is valid Windows-1252 text (none of its five undefined bytes, no
  control characters besides tab and line ends) is Windows-1252;
- bytes that fit none of these refuse the file, naming where UTF-8 failed.
A delimiter is taken from the header alone: ';', tab or '|' when splitting the header on a
comma misses a required column and splitting on that character gives every one.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from etl.contract.profiles import column_name
from etl.contract.sources import Source
from etl.errors import CxkpiError, FileRefused
from etl.loading.read import MAX_LINE_BYTES, Scan, check_line_lengths

#: Delimiters a header may be found split by, in the order they are tried.
DELIMITERS = (";", "\t", "|")
#: Names a person may give a delimiter on the command line.
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
#: How an encoding is named in messages (Python's codec name -> a person's).
_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252",
    "iso8859-1": "Latin-1 (ISO-8859-1)",
    "iso8859-15": "Latin-9 (ISO-8859-15)",
}
#: Bytes that do not occur in text: C0 controls other than tab, line feed and carriage return.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is read, and what was assumed to read it (for the load's message)."""

    encoding: str = "utf-8"
    delimiter: str = ","
    notices: tuple[str, ...] = ()

    @property
    def plain(self) -> bool:
        """True for the contract's own form: the file is read as it is."""
        return self.encoding in ("utf-8", "utf-8-sig") and self.delimiter == ","


PLAIN = Dialect()


@dataclass(frozen=True)
class Stated:
    """What `--encoding` and `--delimiter` said (None: detect it)."""

    encoding: str | None = None
    delimiter: str | None = None

    @classmethod
    def of(cls, encoding: str | None, delimiter: str | None) -> Stated:
        """From the command line's words, checked ('windows-1252', 'tab', ...)."""
        return cls(encoding_name(encoding), delimiter_char(delimiter))


def encoding_name(value: str | None) -> str | None:
    """The codec a stated encoding names ('cp1252' for 'Windows-1252'); a clear error if none."""
    if value is None:
        return None
    try:
        return codecs.lookup(value.strip().replace(" ", "-")).name
    except LookupError:
        raise CxkpiError(
            f"unknown encoding '{value}' (for example utf-8, windows-1252, latin-1, utf-16)"
        ) from None


def delimiter_char(value: str | None) -> str | None:
    """The one character a stated delimiter names (';', 'tab', '\\t', ...)."""
    if value is None:
        return None
    char = _DELIMITER_WORDS.get(value.lower(), value)
    if len(char) != 1 or char in '"\r\n':
        raise CxkpiError(
            f"--delimiter takes one character other than a quote or a line end, or 'tab'"
            f" (got '{value}')"
        )
    return char


def label(encoding: str) -> str:
    return _LABELS.get(encoding, encoding)


def described(delimiter: str) -> str:
    return "tab-separated" if delimiter == "\t" else f"'{delimiter}'-separated"


def detect(
    path: Path, source: Source, stated: Stated | None = None, scanned: Scan | None = None
) -> Dialect:
    """How to read a contract file: what was stated, else what its bytes and header show.

    A stated encoding the bytes do not fit refuses the file, naming where; so do bytes that
    fit no encoding detected. Parquet files are always read as they are. scanned: the
    file's one pass (etl/loading/read.py's scan_file), which has already checked UTF-8.
    """
    if path.suffix.lower() != ".csv" or not path.is_file():
        return PLAIN
    encoding, delimiter = (stated.encoding, stated.delimiter) if stated else (None, None)
    notices = []
    if encoding is not None:
        problem = _not_utf8(scanned) if scanned and encoding == "utf-8" else _misfit(path, encoding)
        if problem:
            raise FileRefused(path, f"{problem} (as --encoding stated)")
        if encoding not in ("utf-8", "utf-8-sig"):
            notices.append(f"read as {label(encoding)}, as --encoding stated")
    else:
        encoding, notice = _detected_encoding(path, scanned)
        notices.extend(notice)
    if delimiter is not None:
        if delimiter != ",":
            notices.append(f"read as {described(delimiter)}, as --delimiter stated")
    else:
        delimiter = _detected_delimiter(_header_line(path, encoding), source)
        if delimiter != ",":
            notices.append(
                f"read as {described(delimiter)}: its header splits on"
                f" {'a tab' if delimiter == chr(9) else repr(delimiter)} into the"
                f" {source.name} columns"
            )
    return Dialect(encoding, delimiter, tuple(notices))


def readable(path: Path, dialect: Dialect, folder: Path) -> Path:
    """The file itself when it is in the contract's form, else a UTF-8 comma copy in folder.

    Values are carried exactly: the copy is written by the csv module from the rows it read,
    quoting where a value holds a comma, a quote or a line end, so rows and their numbers stay.
    """
    if dialect.plain:
        return path
    check_line_lengths(path)  # a runaway line is refused naming it, before it is copied
    target = folder / f"utf8-{path.name}"
    if dialect.delimiter == ",":
        _transcode(path, dialect.encoding, target)
        return target
    with (
        path.open(encoding=dialect.encoding, newline="") as text,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
        reader = csv.reader(text, delimiter=dialect.delimiter)
        writer = csv.writer(out, lineterminator="\n")
        try:
            writer.writerows(reader)
        except csv.Error as error:
            raise FileRefused(
                path,
                f"not readable as {described(dialect.delimiter)} text: line {reader.line_num}:"
                f" {error}",
            ) from None
    return target


def _transcode(path: Path, encoding: str, target: Path) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
        for block in iter(lambda: source.read(_BLOCK), b""):
            out.write(decoder.decode(block))
        out.write(decoder.decode(b"", final=True))


def _detected_encoding(path: Path, scanned: Scan | None) -> tuple[str, list[str]]:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problem = _misfit(path, "utf-16")
        if problem:
            raise FileRefused(path, f"{problem} (it starts with UTF-16's byte-order mark)")
        return "utf-16", ["read as UTF-16: the file starts with its byte-order mark"]
    if b"\x00" in _head(path):
        return "utf-8", []  # binary: the reader refuses it as such
    not_utf8 = _not_utf8(scanned) if scanned else _misfit(path, "utf-8")
    if not_utf8 is None:
        return "utf-8", []
    not_cp1252 = _misfit(path, "cp1252", text_only=True)
    if not_cp1252 is None:
        return "cp1252", [f"read as Windows-1252, since it is {not_utf8}"]
    raise FileRefused(
        path,
        f"{not_utf8}; nor Windows-1252: {not_cp1252.removeprefix('not Windows-1252: ')}"
        " (re-export as UTF-8, or name the file's encoding with --encoding)",
    )


def _head(path: Path, size: int = 1 << 16) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _misfit(path: Path, encoding: str, text_only: bool = False) -> str | None:
    """Where the file's bytes stop fitting the encoding ('not UTF-8: byte 0xe9 in line 2 ...'),
    or None. text_only: a control character does not fit either."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            pending = decoder.getstate()[0]
            if not (encoding == "utf-8" and not pending and block.isascii()):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as error:
                    start = max(error.start - len(error.object) + len(block), 0)
                    return _where(encoding, block, start, offset, lines)
            control = _CONTROL.search(block) if text_only else None
            if control:
                return _where(encoding, block, control.start(), offset, lines)
            offset += len(block)
            lines += block.count(b"\n")
        pending = decoder.getstate()[0]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:  # the file ends inside a character
            return _said(encoding, offset - len(pending), lines + 1, pending[0])
    return None


def _where(encoding: str, block: bytes, start: int, offset: int, lines: int) -> str:
    line = lines + 1 + block[:start].count(b"\n")
    return _said(encoding, offset + start, line, block[start])


def _not_utf8(scanned: Scan) -> str | None:
    return _said("utf-8", *scanned.not_utf8) if scanned.not_utf8 else None


def _said(encoding: str, offset: int, line: int, byte: int) -> str:
    place = "the header" if line == 1 else f"line {line}"  # (a quoted value may span lines)
    return f"not {label(encoding)}: byte 0x{byte:02x} in {place}, at offset {offset}"


def _header_line(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as text:
        return text.readline(MAX_LINE_BYTES).lstrip("\ufeff")


def _detected_delimiter(line: str, source: Source) -> str:
    """',' unless the header misses a required column that another delimiter's split gives."""
    required = set(source.required_columns)

    def names(delimiter: str) -> set[str]:
        return {column_name(n) for n in next(csv.reader([line], delimiter=delimiter), [])}

    if required <= names(","):
        return ","
    return next((d for d in DELIMITERS if required <= names(d)), ",")
