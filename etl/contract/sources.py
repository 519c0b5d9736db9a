"""The input contract (docs/contract.md): every source, column, type and rule, named once."""

from __future__ import annotations

from dataclasses import dataclass

from etl.contract.metrics import METRICS

#: Contact and survey channels; web is a web form, app the mobile app.
CHANNELS = ("phone", "chat", "email", "social", "branch", "web", "app")
#: Status of a case task; without a status, a task with a close time is closed, one without
#: is open. A task closed with no close time counts as closed (it is out of the backlog) but
#: has no duration (task SLA, case resolution, holding windows leave it out).
TASK_STATUSES = ("open", "closed")
FUNCTIONS = ("frontline", "back_office", "support")
ALL_DEPARTMENTS = "*"

#: Contract types and the DuckDB type each one is stored as in the raw layer.
DUCKDB_TYPES = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


@dataclass(frozen=True)
class Column:
    """One contract column: its type, whether it must be present, and its value rules."""

    name: str
    type: str
    description: str
    required: bool = False
    nullable: bool = True
    unique: bool = False
    min: float | None = None
    min_exclusive: bool = False
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    references_departments: bool = False
    allow_all_departments: bool = False
    not_above: str | None = None
    #: (column, value): this column must be empty on a row whose column holds the value.
    empty_when: tuple[str, str] | None = None

    @property
    def duckdb_type(self) -> str:
        """The DuckDB type of this column in the raw layer."""
        return DUCKDB_TYPES[self.type]

    @property
    def must_have_value(self) -> bool:
        """True when an empty value breaks the contract."""
        return self.required and not self.nullable


@dataclass(frozen=True)
class Source:
    """One input source: a folder name in the inbox and a raw table in the warehouse."""

    name: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    replace_all: bool = False
    extra_columns: str = "keep"
    at_least_one_of: tuple[str, ...] = ()
    anonymous: bool = False

    @property
    def raw_table(self) -> str:
        """The raw table this source loads into."""
        return f"raw_{self.name}"

    @property
    def column_names(self) -> list[str]:
        """Contract column names in contract order."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns that must be present in every file of this source."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """The contract column called name."""
        return next(c for c in self.columns if c.name == name)


def _id(name: str, description: str, **rules) -> Column:
    return Column(name, "str", description, **rules)


def _department(description: str, **rules) -> Column:
    return Column("department_id", "str", description, references_departments=True, **rules)


def _likert(name: str, description: str) -> Column:
    return Column(name, "int", description, min=1, max=5)


_REQUIRED = {"required": True, "nullable": False}

DEPARTMENTS = Source(
    name="departments",
    grain="one row per department",
    key=("department_id",),
    replace_all=True,
    columns=(
        _id(
            "department_id",
            "Department identifier used by every other source.",
            unique=True,
            **_REQUIRED,
        ),
        Column("name", "str", "Department name as people know it.", **_REQUIRED),
        Column("function", "str", "Role in the customer journey.", allowed=FUNCTIONS, **_REQUIRED),
        Column("headcount", "int", "Number of employees.", min=0, **_REQUIRED),
    ),
)

INTERACTIONS = Source(
    name="interactions",
    grain="one row per customer contact",
    key=("interaction_id",),
    columns=(
        _id("interaction_id", "Contact identifier.", unique=True, **_REQUIRED),
        Column(
            "started_at",
            "timestamp",
            "When the contact started (local business time).",
            **_REQUIRED,
        ),
        _department("Department that handled the contact.", **_REQUIRED),
        Column(
            "handle_seconds",
            "int",
            "Talk/handle time in seconds.",
            min=0,
            min_exclusive=True,
            **_REQUIRED,
        ),
        _id(
            "case_id",
            "Customer case the contact belongs to (default: the interaction_id).",
        ),
        _id("customer_id", "Customer identifier (pseudonymous)."),
        Column("channel", "str", "Contact channel.", allowed=CHANNELS),
        _id("agent_id", "Agent who handled the contact."),
        Column("wait_seconds", "int", "Queue time before the contact was answered.", min=0),
        Column("resolved", "bool", "Whether the contact resolved the customer's need."),
        Column(
            "transferred_to",
            "str",
            "Department the case was handed to, if any.",
            references_departments=True,
        ),
        Column("follow_up_due_at", "timestamp", "When a promised call-back was due."),
        Column("follow_up_done_at", "timestamp", "When the promised call-back happened."),
    ),
)

CASE_TASKS = Source(
    name="case_tasks",
    grain="one row per back-office task on a customer case",
    key=("task_id",),
    columns=(
        _id("task_id", "Task identifier.", unique=True, **_REQUIRED),
        _id("case_id", "Customer case the task works on.", **_REQUIRED),
        _department("Department that owns the task.", **_REQUIRED),
        Column("opened_at", "timestamp", "When the task was opened.", **_REQUIRED),
        Column(
            "closed_at",
            "timestamp",
            "When the task was closed (empty while open, or when the export has no close time).",
            empty_when=("status", "open"),
        ),
        Column(
            "sla_hours",
            "number",
            "Internal service level for the task, in hours.",
            min=0,
            min_exclusive=True,
        ),
        Column(
            "status",
            "str",
            "open or closed; when empty, closed_at says (a task with a close time is closed)."
            " A closed task without closed_at counts in volumes and the backlog, not in durations.",
            allowed=TASK_STATUSES,
        ),
    ),
)

WORKFORCE = Source(
    name="workforce",
    grain="one row per agent per day",
    key=("work_date", "agent_id"),
    columns=(
        Column("work_date", "date", "Working day.", **_REQUIRED),
        _id("agent_id", "Agent identifier.", **_REQUIRED),
        _department("Department the agent worked for that day.", **_REQUIRED),
        Column("logged_in_minutes", "number", "Minutes logged in.", min=0, **_REQUIRED),
        Column("scheduled_minutes", "number", "Minutes scheduled.", min=0),
        Column(
            "handling_minutes",
            "number",
            "Minutes spent handling contacts.",
            min=0,
            not_above="logged_in_minutes",
        ),
        Column(
            "adherent_minutes",
            "number",
            "Scheduled minutes worked as scheduled.",
            min=0,
            not_above="scheduled_minutes",
        ),
        Column("training_minutes", "number", "Minutes spent in training.", min=0),
        Column("cost", "number", "Cost of the agent-day.", min=0),
    ),
)

NPS_RESPONSES = Source(
    name="nps_responses",
    grain="one row per customer survey response",
    key=("response_id",),
    at_least_one_of=("score", "recommend", "csat", "effort"),
    columns=(
        _id("response_id", "Survey response identifier.", unique=True, **_REQUIRED),
        Column("responded_at", "timestamp", "When the customer answered.", **_REQUIRED),
        _id("customer_id", "Customer identifier (pseudonymous)."),
        _id("case_id", "Case the survey was about."),
        _department("Touchpoint department the survey was about."),
        Column("channel", "str", "Channel the survey was about.", allowed=CHANNELS),
        Column("score", "int", "Likelihood to recommend, 0-10.", min=0, max=10),
        Column("csat", "int", "Satisfaction, 1-5.", min=1, max=5),
        Column("effort", "int", "Customer effort, 1 (low) - 7 (high).", min=1, max=7),
        Column(
            "comment",
            "str",
            "Free-text comment. Only a data owner sees it: it can hold personal details.",
        ),
        Column(
            "recommend",
            "bool",
            "Would recommend, yes/no (a 0/1 answer); never turned into an NPS score.",
        ),
    ),
)

ENGAGEMENT_RESPONSES = Source(
    name="engagement_responses",
    grain="one row per anonymous employee survey response",
    key=("response_id",),
    extra_columns="q_items",
    anonymous=True,
    columns=(
        _id(
            "response_id",
            "Survey response identifier (never an employee id).",
            unique=True,
            **_REQUIRED,
        ),
        Column("wave", "date", "Survey wave (date the wave opened).", **_REQUIRED),
        _department("Department of the respondent.", **_REQUIRED),
        Column("team", "str", "Team within the department."),
        Column("enps_score", "int", "Likelihood to recommend as a workplace, 0-10.", min=0, max=10),
        _likert("q_engaged", "I am engaged in my work (1-5)."),
        _likert("q_empowered", "I can do the right thing for the customer (1-5)."),
        _likert("q_time", "I have the time to resolve customers' needs (1-5)."),
        _likert("q_tools", "I have the tools I need (1-5)."),
        _likert("q_teamwork", "Other teams help me keep promises to customers (1-5)."),
    ),
)

KPI_TARGETS = Source(
    name="kpi_targets",
    grain="one row per department, metric and start of validity",
    key=("department_id", "metric", "valid_from"),
    columns=(
        _department(
            "Department the target applies to ('*' for all).",
            allow_all_departments=True,
            **_REQUIRED,
        ),
        Column(
            "metric",
            "str",
            "Metric name from the metric definitions.",
            allowed=tuple(METRICS),
            **_REQUIRED,
        ),
        Column("target", "number", "Target value, in the metric's unit.", **_REQUIRED),
        Column("valid_from", "date", "First day the target applies.", **_REQUIRED),
    ),
)

INITIATIVES = Source(
    name="initiatives",
    grain="one row per improvement initiative",
    key=("initiative_id",),
    columns=(
        _id("initiative_id", "Initiative identifier.", unique=True, **_REQUIRED),
        Column("name", "str", "What the initiative is.", **_REQUIRED),
        _department("Department running the initiative.", **_REQUIRED),
        Column("started_on", "date", "When the initiative started.", **_REQUIRED),
        Column("metric", "str", "Metric it aims to move.", allowed=tuple(METRICS), **_REQUIRED),
    ),
)

#: Every source, in load order (departments first: the others reference it).
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        DEPARTMENTS,
        INTERACTIONS,
        CASE_TASKS,
        WORKFORCE,
        NPS_RESPONSES,
        ENGAGEMENT_RESPONSES,
        KPI_TARGETS,
        INITIATIVES,
    )
}

BOOLEAN_TRUE = ("true", "1", "yes", "y", "t")
BOOLEAN_FALSE = ("false", "0", "no", "n", "f")


def raw_ddl(source: Source) -> str:
    """CREATE TABLE statement of a source's raw table (types only, plus lineage columns)."""
    columns = [f"{c.name} {c.duckdb_type}" for c in source.columns]
    lineage = [
        "_load_id BIGINT NOT NULL",
        "_file VARCHAR NOT NULL",
        "_row_number BIGINT NOT NULL",
        "_extra JSON",
    ]
    return f"CREATE TABLE IF NOT EXISTS {source.raw_table} ({', '.join(columns + lineage)})"
