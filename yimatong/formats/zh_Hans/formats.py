# Amounts in 万元 read as the bureau's tables print them: 120,000 rather than 120000. Every other
# format comes from Django's zh_Hans locale.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

# A date or time input is rendered in the first of its input formats, and a browser's
# <input type="date"> takes only ISO 8601 (2026-12-05): with Django's Chinese order (2026/12/05
# first) every pre-filled date field showed empty. ISO comes first; the other forms are still read.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
]
