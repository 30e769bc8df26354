"""Indicators read across areas: the 三率 and 无物业小区清零, demand handling, collection rate and
publicity compliance per compound and firm, and the monthly snapshots that keep their history.
The dashboard shows them; the evaluation's computed scoring items read them."""
