"""The parts of a CQC evidence pack, one module each: the measures and key questions (``measures``), staff training
(``training``), patient feedback (``feedback``), complaints and significant events (``complaints``), and the flat
tables and appendices (``appendix``). Each reads what the engine, the measure store and the views say; none of them
works out a figure."""
