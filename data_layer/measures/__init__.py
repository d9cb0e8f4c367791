"""The measure store: every figure worked out once, when its data arrives, and read by every screen and export.

* ``registry`` / ``derivations``: the named calculations that turn raw tables into practice-month figures;
* ``sources``: readers of the raw tables those calculations share;
* ``compute``: areas (practice, PCN, group, federation), suppression, and each series' evaluation;
* ``refresh``: recalculates the store after an import, in one transaction, resumably;
* ``store``: what the views read.
"""
