# Amounts in 万元 read as the bureau's tables print them: 120,000 rather than 120000. Every other
# format comes from Django's zh_Hans locale.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
