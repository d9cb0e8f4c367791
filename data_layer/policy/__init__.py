"""Policy: the rules the federation works by that are not statistics (calendars, deadlines)."""
