"""One date format everywhere (pages, admin, mails): ISO dates, 24-hour times, the zone named.

Django picks these over the en-us locale's "Dec. 1, 2026, 7:50 a.m." (FORMAT_MODULE_PATH).
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
FIRST_DAY_OF_WEEK = 1  # Monday, as ISO 8601
