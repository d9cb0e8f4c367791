"""The screens' theme: the one NHS palette (``data_layer.palette``, shared with the packs) and the page CSS."""

from string import Template

from data_layer.palette import (MDC_COLOURS, NEUTRAL_PURPLE, NHS_AQUA_GREEN, NHS_BLUE,  # noqa: F401 (re-exported)
                                NHS_BRIGHT_BLUE, NHS_DARK_BLUE, NHS_DARK_GREY, NHS_GREEN, NHS_LIGHT_BLUE,
                                NHS_MID_GREY, NHS_ORANGE, NHS_PALE_GREY, NHS_RED, NHS_WARM_YELLOW, RAG_COLOURS,
                                TEXT)

CSS = Template("""
<style>
h1, h2, h3 { color: $dark_blue; }
[data-testid="stMetricLabel"] p { font-weight: 600; }
.fed-banner { background: $yellow; color: $text; padding: 0.5rem 0.9rem; border-radius: 4px; font-weight: 600; }
.fed-muted { color: $dark_grey; font-size: 0.9rem; }
/* Captions: Streamlit fades them (opacity 0.6) to about 4:1 on white and on the pale grey sidebar; NHS Dark Grey at
   full opacity keeps them above WCAG AA's 4.5:1 on both (axe-core, tests/test_accessibility.py). */
[data-testid="stCaptionContainer"] { color: $dark_grey !important; opacity: 1 !important; }
/* The headline sparklines' hover-highlight layer is an empty SVG group announced as an unlabelled graphic; the
   sparkline itself stays (its figures are in words beside it). */
[data-testid="stMetric"] g[class*="highlighted_points_marks"] { display: none; }
/* Date pickers' day / month / year fields: at least 24 px targets (WCAG 2.2 target size). */
[data-testid="stDateInput"] [role="spinbutton"] { display: inline-block; min-width: 24px; min-height: 24px;
  line-height: 24px; text-align: center; }
</style>
""").substitute(dark_blue=NHS_DARK_BLUE, yellow=NHS_WARM_YELLOW, text=TEXT, dark_grey=NHS_DARK_GREY)
