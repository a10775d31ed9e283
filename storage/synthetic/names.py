"""The synthetic shop's fixed data: branches, Thai names, nicknames, the menu, busy hours.

Kept apart from the generator so that the generator module reads as an algorithm, not a list.
"""

from __future__ import annotations

from typing import Final

#: (code, Thai name, English name) — the flagship scenario's five branches
BRANCHES: Final[tuple[tuple[str, str, str], ...]] = (
    ("asoke", "อโศก", "Asoke"),
    ("sukhumvit", "สุขุมวิท", "Sukhumvit"),
    ("phetchaburi", "เพชรบุรี", "Phetchaburi"),
    ("ratchada", "รัชดา", "Ratchada"),
    ("dindaeng", "ดินแดง", "Din Daeng"),
)

FEMALE_FIRST_NAMES: Final = (
    "สมหญิง", "พลอย", "ปิยะนุช", "กนกวรรณ", "สุภาพร", "ศิริพร", "วิภาวดี", "อรอุมา",
    "นภัสสร", "ธิดารัตน์", "ชนิดา", "พิมพ์ชนก", "ณัฐธิดา", "กัญญารัตน์", "จิราพร",
    "รัตนา", "มาลี", "สุดารัตน์", "ปาริชาติ", "อัญชลี", "วรรณา", "เบญจวรรณ", "ภัทรา",
    "ขวัญใจ", "น้ำฝน", "แพรวา", "มณีรัตน์", "ศศิธร", "ปวีณา", "ลลิตา",
)  # fmt: skip

MALE_FIRST_NAMES: Final = (
    "สมชาย", "สมศักดิ์", "ประเสริฐ", "วิชัย", "ธนากร", "ณัฐพล", "กิตติศักดิ์", "อนุชา",
    "สุรชัย", "ชัยวัฒน์", "ภานุวัฒน์", "พงศกร", "ธีรพงษ์", "วีระพงษ์", "อภิชาติ",
    "ปกรณ์", "จักรพันธ์", "ศุภชัย", "เอกชัย", "ธนวัฒน์", "ณัฐวุฒิ", "สุทธิพงษ์",
    "บุญมี", "ประยุทธ", "วรวุฒิ", "ชยพล", "ก้องภพ", "ภูมิ", "ธนพล", "กฤษดา",
)  # fmt: skip

SURNAMES: Final = (
    "ใจดี", "สุขสวัสดิ์", "ศรีสุข", "แก้วมณี", "วงศ์สวัสดิ์", "รักษ์ไทย", "บุญมา",
    "ทองดี", "มีสุข", "เจริญผล", "พึ่งบุญ", "สายสุวรรณ", "ชัยมงคล", "ศรีวงศ์",
    "อินทร์แก้ว", "ปัญญาดี", "จันทร์เพ็ญ", "รุ่งเรือง", "สมบูรณ์", "กิตติวงศ์",
    "ธนากุล", "พรหมมา", "ยิ้มแย้ม", "แสงทอง", "นาคสุข", "เพชรรัตน์", "ทรัพย์สมบูรณ์",
    "ประเสริฐวงศ์", "วัฒนชัย", "ศักดิ์สิทธิ์",
)  # fmt: skip

#: nicknames Thai people often go by, written in English as they are on LINE profiles
FEMALE_NICKNAMES: Final = (
    "Ploy", "Fah", "Mint", "Ice", "Praew", "Nan", "Bua", "Fern", "Pim", "Kwan",
)  # fmt: skip
MALE_NICKNAMES: Final = (
    "Beam", "Tong", "Bank", "Golf", "Boss", "Top", "Mark", "Non", "Art", "Ton",
)  # fmt: skip

#: category → menu prices in baht (a tea shop: one item is 35–120 THB)
MENU: Final[dict[str, tuple[int, ...]]] = {
    "milk_tea": (55, 60, 65, 70, 75, 85, 95),
    "fruit_tea": (50, 55, 65, 75, 90),
    "coffee": (45, 55, 65, 75, 85),
    "snacks": (35, 45, 59, 79, 99, 120),
}
#: how often each category is ordered
MENU_WEIGHTS: Final[dict[str, int]] = {"milk_tea": 45, "fruit_tea": 25, "coffee": 18, "snacks": 12}

# Local opening hours and how busy each hour is. Weekday 14–16 is the flagship scenario's
# problem: offices are back at work, students still at school.
WEEKDAY_HOURS: Final = {8: 3, 9: 4, 10: 4, 11: 9, 12: 12, 13: 9, 14: 2, 15: 2, 16: 3,
                        17: 8, 18: 10, 19: 8, 20: 5, 21: 2}  # fmt: skip
WEEKEND_HOURS: Final = {9: 2, 10: 4, 11: 6, 12: 8, 13: 8, 14: 7, 15: 7, 16: 7,
                        17: 7, 18: 8, 19: 7, 20: 5, 21: 2}  # fmt: skip
#: Monday..Sunday visit weight per branch: Asoke is an office area (quiet weekends), Ratchada
#: and Sukhumvit are busier on weekends.
DAY_WEIGHTS: Final[dict[str, tuple[float, ...]]] = {
    "asoke": (1.0, 1.0, 1.0, 1.0, 1.1, 0.6, 0.5),
    "sukhumvit": (1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.3),
    "phetchaburi": (1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9),
    "ratchada": (0.9, 0.9, 0.9, 0.9, 1.0, 1.5, 1.4),
    "dindaeng": (1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.1),
}
HOME_BRANCH_WEIGHTS: Final = (25, 25, 15, 20, 15)
