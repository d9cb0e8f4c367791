"""NHS identity colours and the RAG / Making Data Count palette (always paired with words or symbols)."""

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_BRIGHT_BLUE = "#0072CE"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_AQUA_GREEN = "#00A499"
NHS_GREEN = "#009639"
NHS_WARM_YELLOW = "#FFB81C"
NHS_ORANGE = "#ED8B00"
NHS_RED = "#DA291C"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
TEXT = "#212B32"

RAG_COLOURS = {"green": NHS_GREEN, "amber": NHS_WARM_YELLOW, "red": NHS_RED, "none": NHS_MID_GREY}
# Making Data Count: blue improvement, orange concern, grey common cause.
MDC_COLOURS = {"improvement": NHS_BLUE, "concern": NHS_ORANGE, "common cause": NHS_MID_GREY,
               "neutral special cause": "#490092"}

CSS = """
<style>
h1, h2, h3 { color: #003087; }
[data-testid="stMetricLabel"] p { font-weight: 600; }
.fed-banner { background: #FFB81C; color: #212B32; padding: 0.5rem 0.9rem; border-radius: 4px; font-weight: 600; }
.fed-muted { color: #425563; font-size: 0.9rem; }
/* Captions: Streamlit fades them (opacity 0.6) to about 4:1 on white and on the pale grey sidebar; NHS Dark Grey at
   full opacity keeps them above WCAG AA's 4.5:1 on both (axe-core, tests/test_accessibility.py). */
[data-testid="stCaptionContainer"] { color: #425563 !important; opacity: 1 !important; }
/* The headline sparklines' hover-highlight layer is an empty SVG group announced as an unlabelled graphic; the
   sparkline itself stays (its figures are in words beside it). */
[data-testid="stMetric"] g[class*="highlighted_points_marks"] { display: none; }
/* Date pickers' day / month / year fields: at least 24 px targets (WCAG 2.2 target size). */
[data-testid="stDateInput"] [role="spinbutton"] { display: inline-block; min-width: 24px; min-height: 24px;
  line-height: 24px; text-align: center; }
</style>
"""
