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
/* Charts carry no toolbar: on a phone it sat on the legends, and zoom / pan / download are not what a board uses
   (every chart has its table and CSV download beside it). */
.modebar-container { display: none !important; }
/* A table wider than its place scrolls sideways with a scrollbar that is always drawn (phones hide theirs until
   touched, so a cut-off column looked like the whole table). */
[data-testid="stDataFrame"] .dvn-scroller, .fed-scroll { scrollbar-width: auto !important;
  scrollbar-color: auto !important; }
[data-testid="stDataFrame"] .dvn-scroller::-webkit-scrollbar, .fed-scroll::-webkit-scrollbar { height: 10px;
  width: 10px; }
[data-testid="stDataFrame"] .dvn-scroller::-webkit-scrollbar-thumb, .fed-scroll::-webkit-scrollbar-thumb {
  background: $mid_grey; border-radius: 5px; }
[data-testid="stDataFrame"] .dvn-scroller::-webkit-scrollbar-track, .fed-scroll::-webkit-scrollbar-track {
  background: $pale_grey; }
/* Two layouts of one thing, the one that fits the screen shown: `st.container(key="wide_…")` on a laptop,
   `key="narrow_…"` on a phone (Streamlit stacks its columns below 640 px too). */
@media (max-width: 640px) { [class*=" st-key-wide_"] { display: none !important; } }
@media (min-width: 641px) { [class*=" st-key-narrow_"] { display: none !important; } }
/* An HTML table of our own (the practice matrix on a phone): the first column stays while the rest scrolls. */
.fed-scroll { overflow-x: auto; max-width: 100%; }
.fed-table { border-collapse: separate; border-spacing: 2px; font-size: 0.85rem; }
.fed-table th { font-weight: 600; color: $text; text-align: center; vertical-align: bottom; padding: 2px 4px;
  min-width: 4.2rem; }
.fed-table th:first-child, .fed-table td:first-child { position: sticky; left: 0; background: #FFFFFF;
  text-align: left; min-width: 8.5rem; max-width: 9.5rem; z-index: 1; }
.fed-table td { padding: 3px 4px; text-align: center; white-space: nowrap; }
.fed-table tbody th { font-weight: 400; white-space: normal; }
/* A table to read (the aims scorecard): words wrap, each group's name once above its rows. */
.fed-read { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.fed-read th, .fed-read td { border-bottom: 1px solid #D8DDE0; padding: 0.3rem 0.45rem; text-align: left;
  vertical-align: middle; }
.fed-read thead th { background: $pale_grey; font-weight: 600; position: sticky; top: 0; }
.fed-read tr.fed-group th { font-weight: 600; color: $dark_blue; padding-top: 0.7rem; border-bottom: 2px solid #D8DDE0; }
.fed-scroll.fed-tall { max-height: 720px; overflow-y: auto; }
.fed-read.fed-dense { font-size: 0.8rem; }
.fed-read.fed-dense th, .fed-read.fed-dense td { padding: 0.25rem 0.3rem; }
.fed-read td.fed-nowrap { white-space: nowrap; }
/* an icon beside its words; longer words ("Consistently passes, though the latest …") wrap beside the icon */
.fed-read .fed-icon { display: flex; align-items: center; gap: 0.35rem; min-width: 7rem; }
.fed-read .fed-icon img { flex: none; }
/* A table's rows as cards, on a phone: the row's name in bold, then each column's name and value, several to a
   line; the cards of one group (an aim) under its name. */
.fed-card-group { font-weight: 600; color: $dark_blue; margin: 0.8rem 0 0.3rem 0; }
.fed-card { border: 1px solid #D8DDE0; border-radius: 6px; padding: 0.4rem 0.7rem; margin-bottom: 0.4rem;
            overflow-wrap: anywhere; min-width: 0; }  /* a long link or file name breaks, never widens the page */
.fed-card p { margin: 0; }
.fed-card .fed-card-title { font-weight: 600; }
.fed-card-items { display: flex; flex-wrap: wrap; gap: 0 0.9rem; font-size: 0.88rem; }
.fed-card-items b { font-weight: 400; color: $dark_grey; }
</style>
""").substitute(dark_blue=NHS_DARK_BLUE, yellow=NHS_WARM_YELLOW, text=TEXT, dark_grey=NHS_DARK_GREY,
                  mid_grey=NHS_MID_GREY, pale_grey=NHS_PALE_GREY)
