"""``chatcrm import members``: customers from a POS or spreadsheet, upserted by phone.

Decisions:

- The key is the E.164 phone. A new phone creates a member without a chat identity
  (``signup_source="import"``, a fresh member code unless the file carries a free one of ours,
  ``joined_at`` = the file's first visit, else now). No consent is invented: an imported member
  has neither membership nor marketing consent until they join in chat, where the phone is
  matched. An existing phone only fills fields that are still empty, and adds tags.
- Points: the file's balance becomes the new member's opening balance, one ledger entry
  ``import`` with key ``import:<phone>``, earned now (the expiry clock starts at the import,
  not at purchases the shop cannot date), written with the member's insert
  (:mod:`bot.importing.opening`). The first import wins: for a member who already
  exists, a different balance in the file is reported as a warning and not applied (a
  correction is an ``/adjust``, which leaves an audit trail).
- ``Note`` is kept as a staff note on members the import creates; e-mail and address columns
  are ignored (the product does not need them, and PDPA says collect no more than needed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from bot.importing import values
from bot.importing.csvfile import CsvRecord, CsvSource, FieldSpec
from bot.importing.opening import record_openings, unopened
from bot.importing.report import ImportReport
from bot.importing.values import Remembered, cell
from shop.member_notes import clean_note
from storage.branch_names import BranchNames
from storage.bulk import importing as store
from storage.db import DatabaseConnection
from storage.repositories.members import CODE_ALPHABET, CODE_LENGTH, new_member_code

FIELDS: Final = (
    FieldSpec("phone", ("phone number", "mobile", "mobile phone", "mobile number", "tel",
                        "telephone", "customer phone", "เบอร์โทร", "เบอร์โทรศัพท์", "โทรศัพท์",
                        "เบอร์มือถือ", "มือถือ", "เบอร์"), required=True),
    FieldSpec("name", ("customer name", "full name", "customer", "ชื่อ", "ชื่อลูกค้า",
                       "ชื่อ นามสกุล", "ชื่อสมาชิก"), required=True),
    FieldSpec("birthday", ("birth date", "date of birth", "dob", "birthdate", "วันเกิด",
                           "วันเดือนปีเกิด")),
    FieldSpec("points", ("points balance", "point balance", "loyalty points", "point", "แต้ม",
                         "แต้มสะสม", "คะแนน", "คะแนนสะสม")),
    FieldSpec("tags", ("tag", "แท็ก", "ป้ายกำกับ")),
    FieldSpec("note", ("notes", "หมายเหตุ", "บันทึก")),
    FieldSpec("gender", ("sex", "เพศ")),
    FieldSpec("home_branch", ("branch", "store", "สาขา", "สาขาประจำ")),
    FieldSpec("joined", ("first visit", "joined at", "member since", "date created",
                         "วันที่สมัคร", "สมัครเมื่อ")),
    FieldSpec("member_code", ("รหัสสมาชิก",)),
)  # fmt: skip

IMPORT_SOURCE: Final = "import"
MAX_NOTE_LENGTH: Final = 2_000
_OUR_CODE: Final = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
#: fields an import may fill on an existing member, only while they are empty
_FILLABLE: Final = ("name", "birthday", "gender", "home_branch_id")


class MemberRow(NamedTuple):
    """A valid row (a named tuple: imports build tens of thousands, a frozen dataclass costs
    a ``__setattr__`` call per field)."""

    line: int
    phone: str
    name: str
    birthday: date | None = None
    gender: str | None = None
    home_branch_id: int | None = None
    points: int | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    joined_at: datetime | None = None
    member_code: str | None = None


class MemberImport:
    """Parses and writes batches of member rows; remembers phones across batches."""

    def __init__(
        self,
        source: CsvSource,
        *,
        now: datetime,
        tz: ZoneInfo,
        locale: str,
        branches: BranchNames,
    ) -> None:
        self.source = source
        self.now = now
        self.tz = tz
        self.locale = locale
        self.branches = branches
        self._seen: dict[str, int] = {}  # phone -> first line
        self._today = now.astimezone(tz).date()
        self._branch = values.branch_of(branches)
        today = self._today
        self._birthday = Remembered(lambda raw: values.birthday(raw, today))
        self._gender = Remembered(values.gender)
        self._points = Remembered(values.points)
        self._tags = Remembered(values.tags)
        self._joined = Remembered(lambda raw: values.moment(raw, tz, now))

    def parse(self, record: CsvRecord, report: ImportReport) -> MemberRow | None:
        """The row's values, or None after reporting every bad cell of it."""
        problems: list[tuple[str, str, str]] = []
        phone = cell(record, "phone", values.phone, problems)
        name = cell(record, "name", values.name, problems)
        for field in ("phone", "name"):
            if not record.get(field):
                problems.append((field, "", f"{field} is empty"))
        row = MemberRow(
            line=record.line,
            phone=phone or "",
            name=name or "",
            birthday=cell(record, "birthday", self._birthday, problems),
            gender=cell(record, "gender", self._gender, problems),
            home_branch_id=cell(record, "home_branch", self._branch, problems),
            points=cell(record, "points", self._points, problems),
            tags=cell(record, "tags", self._tags, problems) or (),
            note=clean_note(record.get("note"))[:MAX_NOTE_LENGTH] or None,
            joined_at=cell(record, "joined", self._joined, problems),
            member_code=self._code(record.get("member_code")),
        )
        if phone is not None:
            first = self._seen.setdefault(phone, row.line)
            if first != row.line:
                problems.append(("phone", record.get("phone"), f"same phone as line {first}"))
        for field, raw, reason in problems:
            report.error(record.line, self.source.header_of(field), raw, reason)
        return None if problems else row

    @staticmethod
    def _code(raw: str) -> str | None:
        if not raw:
            return None
        code = raw.strip().upper()
        return code if _OUR_CODE.fullmatch(code) else None

    async def write(
        self, connection: DatabaseConnection, rows: list[MemberRow], report: ImportReport
    ) -> None:
        """Upsert one batch of parsed rows: a handful of statements whatever the batch size."""
        if not rows:
            return
        existing = await store.members_by_phone(connection, [row.phone for row in rows])
        new = [row for row in rows if row.phone not in existing]
        opening = await unopened(connection, {row.phone: row.points or 0 for row in new})
        ids = await self._insert(connection, new, opening)
        report.created += len(new)
        known = [row for row in rows if row.phone in existing]
        changed = await self._fill(connection, known, existing)
        ids.update({phone: int(member["id"]) for phone, member in existing.items()})
        changed |= await self._tag(connection, rows, ids)
        updated = {row.phone for row in rows if row.phone in existing and row.phone in changed}
        report.updated += len(updated)
        report.unchanged += len(rows) - len(new) - len(updated)
        notes = [(ids[row.phone], row.note) for row in new if row.note]
        await store.add_notes(connection, notes, self.now)
        await record_openings(connection, opening, ids, self.now)
        for row in rows:
            member = existing.get(row.phone)
            if member is None or row.points is None:
                continue
            if row.points != member["points_balance"]:
                report.warning(
                    row.line,
                    self.source.header_of("points"),
                    str(row.points),
                    f"points not changed: the member already exists with {member['points_balance']}"
                    " points (an imported balance only opens a new member; use /adjust)",
                )

    async def _insert(
        self, connection: DatabaseConnection, new: list[MemberRow], opening: dict[str, int]
    ) -> dict[str, int]:
        """Insert the new members, with their balances to open (:mod:`.opening`); ids by
        phone."""
        if not new:
            return {}
        codes = await self._codes(connection, new)
        # the ids are taken first (COPY returns nothing): the opening entries point at them
        ids = await store.new_member_ids(connection, len(new))
        await store.insert_members(
            connection,
            [
                {
                    "id": member_id,
                    "member_code": codes[row.line],
                    "name": row.name,
                    "phone": row.phone,
                    "birthday": row.birthday,
                    "gender": row.gender,
                    "home_branch_id": row.home_branch_id,
                    "locale": self.locale,
                    "joined_at": row.joined_at or self.now,
                    "signup_source": IMPORT_SOURCE,
                    "marketing_opt_in": False,
                    "points_balance": opening.get(row.phone, 0),
                    "phone_verified": False,
                }
                for member_id, row in zip(ids, new, strict=True)
            ],
        )
        return {row.phone: member_id for member_id, row in zip(ids, new, strict=True)}

    async def _codes(self, connection: DatabaseConnection, new: list[MemberRow]) -> dict[int, str]:
        """A free member code per line: the file's own (an export of ours) or a fresh one."""
        codes = {row.line: row.member_code or new_member_code() for row in new}
        while True:
            taken = await store.taken_member_codes(connection, codes.values())
            seen: set[str] = set()
            clashes = []
            for line, code in codes.items():
                if code in taken or code in seen:
                    clashes.append(line)
                seen.add(code)
            if not clashes:
                return codes
            for line in clashes:
                codes[line] = new_member_code()

    async def _fill(
        self,
        connection: DatabaseConnection,
        rows: list[MemberRow],
        existing: dict[str, Mapping[str, Any]],
    ) -> set[str]:
        """Fill empty fields of existing members; the phones whose member changed."""
        changed: set[str] = set()
        for field in _FILLABLE:
            filled: dict[int, object] = {}
            for row in rows:
                member = existing[row.phone]
                value = getattr(row, field)
                if value is not None and member[field] is None:
                    filled[member["id"]] = value
                    changed.add(row.phone)
            await store.fill_empty(connection, field, filled)
        return changed

    async def _tag(
        self, connection: DatabaseConnection, rows: list[MemberRow], ids: dict[str, int]
    ) -> set[str]:
        """Add the tags members do not have yet; the phones that got one."""
        wanted = [(row.phone, tag) for row in rows for tag in row.tags]
        if not wanted:
            return set()
        have = await store.tags_of(connection, {ids[phone] for phone, _ in wanted})
        fresh: dict[tuple[int, str], str] = {}
        for phone, tag in wanted:
            key = (ids[phone], tag)
            if key not in have:
                fresh.setdefault(key, phone)
        await store.add_tags(connection, fresh, self.now)
        return set(fresh.values())
