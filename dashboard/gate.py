"""Who is looking, decided at the start of every page run (docs/access.md).

With no `[auth]` section in Streamlit's secrets the dashboard is in local mode: one person
on this machine (`cxkpi serve` then binds the loopback address only). With one, visitors
sign in through the OpenID Connect provider it names (`st.login`), and the access file
says what they may see. A run that cannot say who is looking shows no data.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboard import data, ui
from etl import settings
from etl.errors import CxkpiError
from etl.warehouse.access import LOCAL, Access, AccessFile, configured, parse, who


class _ServerOutput(logging.Handler):
    """Lines on the server's standard output as it is when they are written."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), flush=True)


class _OneLine(logging.Formatter):
    """Each record on one line: claims and file contents cannot start a forged line.

    Every control or separator character (newline, carriage return, escape, U+2028...) is
    written as its Python escape (tests/security/test_closed_page.py).
    """

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def printable(text: str) -> str:
    """text with each character that is not printable written as its escape, e.g. \\n."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


#: One line per signed-in session (and per refusal) on the server's output: who, as what.
log = logging.getLogger("cxkpi.access")
if not log.handlers:
    _handler = _ServerOutput()
    _handler.setFormatter(_OneLine("%(asctime)s access: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def sign_in_configured() -> bool:
    """True when Streamlit's secrets hold an [auth] section."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


@st.cache_resource(max_entries=4, show_spinner=False)
def _parsed(path: str, _changed: int) -> AccessFile:
    return parse(Path(path))


def access_file() -> AccessFile:
    """The access file, read again when it changes, its departments checked against the
    published warehouse (raises CxkpiError naming file and line)."""
    path = configured()
    if path is None:
        raise CxkpiError(
            "sign-in is configured, but no access file says who may see what: start the"
            " dashboard with `cxkpi serve --access FILE` (docs/access.md)"
        )
    try:
        changed = path.stat().st_mtime_ns
    except OSError as error:
        raise CxkpiError(f"{path}: cannot read the access file ({error.strerror})") from None
    found = _parsed(str(path), changed)
    try:
        known = data.known_departments()
    except data.DataUnavailable:
        return found  # no warehouse yet: every page says so, and no data is shown
    found.check_departments(known)
    return found


def admit() -> Access:
    """The reader of this run; draws a page of its own and stops the run if there is none."""
    if not sign_in_configured():
        if settings.UNSAFE_OPEN.get():
            st.sidebar.warning(
                "**Not signed in, open to the network**: anyone who reaches this address sees"
                " every department.",
                icon=":material/lock_open:",
            )
        else:
            st.sidebar.caption(
                ":material/lock_open: **Local mode, not signed in.** Serving this machine only."
            )
        return LOCAL
    if not st.user.is_logged_in:
        _sign_in()
        st.stop()
    try:
        found = access_file()
    except CxkpiError as error:
        _log_closed(str(error))
        _closed()
        st.stop()
    access = found.resolve(st.user.to_dict())
    _log_once(access, found)
    if access is None:
        _no_access(found.contact)
        st.stop()
    with st.sidebar:
        st.caption(
            f":material/account_circle: Signed in as **{ui.plain(access.who)}**"
            f" ({ui.plain(access.describe())})"
        )
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="cx_sign_out")
    return access


def _log_once(access: Access | None, found: AccessFile) -> None:
    """Say who signed in as what, once per session and again when it changes."""
    user = st.user.to_dict()
    line = (
        f"{access.who} as {access.describe()} ({access.because})"
        if access
        else f"{who(user)} refused: no grant in {found.path.name} matches"
    )
    if unused := found.unused_claims(user):
        line += f" ({'; '.join(unused)})"
    if st.session_state.get("cx_access_logged") != line:
        st.session_state["cx_access_logged"] = line
        log.info(line)


def _sign_in() -> None:
    st.title("cxkpi")
    st.markdown(
        "Customer-experience KPIs, set against the productivity targets that drive them."
        " Sign in with your organisation's account to see them."
    )
    st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")


def _no_access(contact: str) -> None:
    st.title("No access yet")
    st.markdown(
        f"You are signed in as **{ui.plain(who(st.user.to_dict()))}**, but this dashboard has"
        " not been opened to you."
        f"\n\nAsk **{ui.plain(contact)}** for access, saying which departments you need to see."
    )
    st.button("Sign out", on_click=st.logout, icon=":material/logout:")


def _log_closed(problem: str) -> None:
    """The whole problem for whoever runs the server, once per session while it lasts."""
    line = f"dashboard closed: {problem}"
    if st.session_state.get("cx_access_logged") != line:
        st.session_state["cx_access_logged"] = line
        log.error(line)


def _closed() -> None:
    """What a visitor sees: that it is closed, and nothing of the warehouse or the server."""
    st.title("The dashboard is closed")
    st.error(
        "Its access file cannot be used, so no data is shown to anyone. Whoever runs the"
        " dashboard finds the reason in its output.",
        icon=":material/lock:",
    )
