"""``chatcrm import sales``: receipts from a POS, idempotent on the receipt number at its branch.

Decisions:

- Each branch's till numbers its own receipts, as chat's ``/sale`` takes them: a receipt number
  at another branch is another sale. Everything below is of one number at one branch.
- A receipt already stored for the same member with the same amount is unchanged (a re-run
  changes nothing; chat's ``/sale`` dedups by the same two, its time being when it was typed);
  for another member or amount it is a conflict, reported and not touched. A receipt again
  later in the same file is unchanged only as a copy of its first row (same member, amount
  and time) and gets that row's outcome (a copy of a row that failed fails too); any
  other reuse is a conflict, reported with its line: a POS does not reuse a number for a sale
  it means to keep, and counting it unchanged would lose the sale without a word.
- The customer cell holds a phone (any Thai form), a member code or a card payload; Loyverse's
  "Customer contacts" may hold a phone and an e-mail together, the phone is picked out. A
  receipt without a customer is skipped (counted, not an error: most POS receipts are
  anonymous); an unknown customer is an error (import the members first).
- ``Refund`` receipts are skipped and counted: a refund in a POS file does not say reliably
  which sale it reverses; reverse the sale in chat with ``/void``.
- Points: with ``award_points`` (the default) each new sale earns points by the current rules
  (base rate, no tier multiplier: the tier at the time of a historic sale is unknown), one
  ledger entry ``sale:<sale id>`` earned at the sale's time, so expiry counts from the real
  purchase. Turn it off when the members file already carried the POS's points balance, or the
  same purchases would be paid twice.
- ``Sale.source = "import"``; no receipts are sent for imported sales (they are old
  purchases). A referred member's first purchase pays the referral bonus as ``/sale`` does,
  once the receipts are committed (:mod:`bot.importing.referrals`): the members of every row
  whose customer is known, new receipt or not, are kept in ``customers`` for that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from bot.importing import values
from bot.importing.csvfile import CsvRecord, CsvSource, FieldSpec
from bot.importing.report import ImportReport
from bot.importing.values import Remembered, cell
from shop.inputs import parse_phone
from shop.ledger import receipt_as_stored
from storage.branch_names import BranchNames
from storage.bulk import importing as store
from storage.bulk.points import Credit, credit_fresh
from storage.db import DatabaseConnection
from storage.repositories.members import CODE_ALPHABET, CODE_LENGTH

FIELDS: Final = (
    FieldSpec("receipt", ("receipt number", "receipt no", "receipt", "bill no", "invoice",
                          "เลขที่ใบเสร็จ", "ใบเสร็จ", "เลขที่บิล"), required=True),
    FieldSpec("datetime", ("date", "date time", "sold at", "time", "วันที่", "วันเวลา",
                           "วันที่ขาย"), required=True),
    FieldSpec("customer", ("customer contacts", "phone", "customer phone", "member",
                           "member code", "mobile", "เบอร์โทร", "รหัสสมาชิก", "ลูกค้า"),
              required=True),
    FieldSpec("amount", ("net sales", "total", "gross sales", "ยอดสุทธิ", "ยอดเงิน", "ยอดขาย",
                         "จำนวนเงิน"), required=True),
    FieldSpec("branch", ("store", "สาขา", "ร้าน")),
    FieldSpec("categories", ("category", "หมวดหมู่", "หมวด")),
    FieldSpec("receipt_type", ("type", "ประเภท")),
)  # fmt: skip

IMPORT_SOURCE: Final = "import"
MAX_RECEIPT_LENGTH: Final = 64
REFUND_TYPES: Final = frozenset({"refund", "คืนเงิน", "คืนสินค้า"})
_CODE: Final = re.compile(f"(?:CRM:)?([{CODE_ALPHABET}]{{{CODE_LENGTH}}})")
_CONTACT_SEPARATORS: Final = re.compile(r"[,;/|]")


class SaleRow(NamedTuple):
    """A valid receipt (a named tuple: cheaper to build than a frozen dataclass)."""

    line: int
    receipt: str
    occurred_at: datetime
    #: ("phone", "+66…") or ("code", "ABCD2345")
    customer: tuple[str, str]
    amount: Decimal
    branch_id: int
    categories: str | None


class FirstRow(NamedTuple):
    """What the first row of a receipt in the file was, for the receipt's later rows."""

    line: int
    #: the member id, or the customer cell's key when no member has it
    who: int | tuple[str, str]
    amount: Decimal
    occurred_at: datetime
    #: (field, value, reason) of its error; None when it was stored or already was
    failure: tuple[str, str, str] | None


NO_MEMBER: Final = "no member with this phone or code (import the members first)"


def customer_key(text: str) -> tuple[str, str]:
    """A phone or member code from a customer cell (raises CellError when it has neither)."""
    parts = (text, *_CONTACT_SEPARATORS.split(text))
    for part in parts:
        try:
            return ("phone", parse_phone(part))
        except InvalidInput:
            pass
        if match := _CODE.fullmatch(part.strip().upper()):
            return ("code", match.group(1))
    # after the codes: eight digits from 2-9 may be a member code as well as a landline
    for part in parts:
        if found := values.dropped_zero_phone(part):
            return ("phone", found)
    raise values.CellError("no Thai phone number or member code")


class SaleImport:
    """Parses and writes batches of receipts; remembers receipts across batches."""

    def __init__(
        self,
        source: CsvSource,
        *,
        now: datetime,
        tz: ZoneInfo,
        branches: BranchNames,
        default_branch_id: int | None,
        points_for: Callable[[Decimal], int] | None,
    ) -> None:
        self.source = source
        self.now = now
        self.tz = tz
        self.branches = branches
        self.default_branch_id = default_branch_id
        self.points_for = points_for
        #: by (receipt, branch id), once its batch is written
        self._first: dict[tuple[str, int], FirstRow] = {}
        #: the members the file's receipts belong to (for the referral bonus of a first one)
        self.customers: set[int] = set()
        self._branch = values.branch_of(branches)
        self._moment = Remembered(lambda raw: values.moment(raw, tz, now))
        self._customer = Remembered(customer_key)
        self._amount = Remembered(values.amount)
        self._categories = Remembered(values.categories)

    def parse(self, record: CsvRecord, report: ImportReport) -> SaleRow | None:
        """The row's values; None when it is skipped or bad (reported)."""
        return self._values(record, report)

    def _values(self, record: CsvRecord, report: ImportReport) -> SaleRow | None:
        if record.get("receipt_type").casefold() in REFUND_TYPES or not record.get("customer"):
            report.skipped += 1
            return None
        problems: list[tuple[str, str, str]] = []
        # as /sale stores it: INV-001 in the file and inv-001 at the till are one receipt
        receipt = receipt_as_stored(record.get("receipt"))
        if not receipt:
            problems.append(("receipt", "", "receipt number is empty"))
        elif len(receipt) > MAX_RECEIPT_LENGTH:
            problems.append(("receipt", receipt, "receipt number is too long"))
        occurred = cell(record, "datetime", self._moment, problems)
        if not record.get("datetime"):
            problems.append(("datetime", "", "date is empty"))
        customer = cell(record, "customer", self._customer, problems)
        amount = cell(record, "amount", self._amount, problems)
        if not record.get("amount"):
            problems.append(("amount", "", "amount is empty"))
        branch_id = cell(record, "branch", self._branch, problems) or self.default_branch_id
        if branch_id is None and not record.get("branch"):
            problems.append(("branch", "", "branch is empty (or pass --branch CODE)"))
        categories = cell(record, "categories", self._categories, problems)
        for field, raw, reason in problems:
            report.error(record.line, self.source.header_of(field), raw, reason)
        if problems or occurred is None or customer is None or amount is None or not branch_id:
            return None
        return SaleRow(record.line, receipt, occurred, customer, amount, branch_id, categories)

    def _conflict(self, row: SaleRow, report: ImportReport, reason: str) -> None:
        report.error(row.line, self.source.header_of("receipt"), row.receipt, reason)

    async def write(
        self, connection: DatabaseConnection, rows: list[SaleRow], report: ImportReport
    ) -> None:
        """Insert one batch of new receipts and their points: a handful of statements."""
        if not rows:
            return
        fresh = {row.receipt for row in rows if (row.receipt, row.branch_id) not in self._first}
        known = await store.stored_receipts(connection, fresh) if fresh else {}
        members = await self._members(connection, rows)
        self.customers.update(members.values())
        new: list[tuple[SaleRow, int]] = []
        for row in rows:
            member_id = members.get(row.customer)
            key = (row.receipt, row.branch_id)
            first = self._first.get(key)
            if first is not None:
                self._repeat(row, member_id, first, report)
            elif self._first_row(row, member_id, known.get(key), report):
                assert member_id is not None  # a row without a member is not new
                new.append((row, member_id))
        if new:
            await self._insert(connection, new, report)

    def _first_row(
        self,
        row: SaleRow,
        member_id: int | None,
        stored: tuple[int | None, Decimal] | None,
        report: ImportReport,
    ) -> bool:
        """Whether the receipt's first row in the file is a new sale (otherwise it is counted
        or reported here)."""
        failure: tuple[str, str, str] | None = None
        if stored is not None:
            stored_member, stored_amount = stored
            if stored_amount != row.amount:
                failure = ("receipt", row.receipt, f"already recorded with amount {stored_amount}")
            elif None not in (stored_member, member_id) and stored_member != member_id:
                # a customer no member has now (an erased one) keeps the re-run unchanged
                failure = ("receipt", row.receipt, "already recorded for another customer")
            else:
                report.unchanged += 1
        elif member_id is None:
            failure = ("customer", row.customer[1], NO_MEMBER)
        who = row.customer if member_id is None else member_id
        self._first[row.receipt, row.branch_id] = FirstRow(
            row.line, who, row.amount, row.occurred_at, failure
        )
        if failure is not None:
            field, value, reason = failure
            report.error(row.line, self.source.header_of(field), value, reason)
        return stored is None and failure is None

    def _repeat(
        self, row: SaleRow, member_id: int | None, first: FirstRow, report: ImportReport
    ) -> None:
        """A receipt that came earlier in the file: unchanged as a copy of a stored row, the
        first row's error again as a copy of a failed one, a conflict otherwise."""
        earlier = f"receipt already on line {first.line}"
        if row.amount != first.amount:
            self._conflict(row, report, f"{earlier} with amount {first.amount}")
        elif (row.customer if member_id is None else member_id) != first.who:
            self._conflict(row, report, f"{earlier} for another customer")
        elif row.occurred_at != first.occurred_at:
            self._conflict(row, report, f"{earlier} with another date or time")
        elif first.failure is None:
            report.unchanged += 1
        else:
            field, value, reason = first.failure
            report.error(row.line, self.source.header_of(field), value, reason)

    async def _insert(
        self, connection: DatabaseConnection, new: list[tuple[SaleRow, int]], report: ImportReport
    ) -> None:
        # the ids are taken first (COPY returns nothing): the points entries point at them
        ids = await store.new_sale_ids(connection, len(new))
        await store.insert_sales(
            connection,
            [
                {
                    "id": sale_id,
                    "receipt_no": row.receipt,
                    "member_id": member_id,
                    "branch_id": row.branch_id,
                    "amount": row.amount,
                    "occurred_at": row.occurred_at,
                    "categories": row.categories,
                    "used_coupon": False,
                    "source": IMPORT_SOURCE,
                }
                for sale_id, (row, member_id) in zip(ids, new, strict=True)
            ],
        )
        sale_ids = {
            (row.receipt, row.branch_id): sale_id
            for sale_id, (row, _) in zip(ids, new, strict=True)
        }
        report.created += len(new)
        if self.points_for is not None:
            await self._award(connection, new, sale_ids, self.points_for)

    async def _members(
        self, connection: DatabaseConnection, rows: list[SaleRow]
    ) -> dict[tuple[str, str], int]:
        phones = {value for kind, value in (row.customer for row in rows) if kind == "phone"}
        codes = {value for kind, value in (row.customer for row in rows) if kind == "code"}
        found: dict[tuple[str, str], int] = {}
        if phones:
            by_phone = await store.member_ids_by_phone(connection, phones)
            found.update({("phone", phone): member_id for phone, member_id in by_phone.items()})
        if codes:
            by_code = await store.member_ids_by_code(connection, codes)
            found.update({("code", code): member_id for code, member_id in by_code.items()})
        return found

    async def _award(
        self,
        connection: DatabaseConnection,
        new: list[tuple[SaleRow, int]],
        sale_ids: dict[tuple[str, int], int],
        points_for: Callable[[Decimal], int],
    ) -> None:
        credits = [
            Credit(
                member_id,
                points_for(row.amount),
                "sale",
                f"sale:{sale_ids[row.receipt, row.branch_id]}",
                row.occurred_at,
                sale_id=sale_ids[row.receipt, row.branch_id],
            )
            for row, member_id in new
        ]
        # the keys are "sale:<id>" of sales inserted just now: none can be in the ledger yet
        await credit_fresh(connection, credits, self.now)
