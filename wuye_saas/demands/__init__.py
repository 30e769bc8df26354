"""Demands (诉求): 群众点单、社区派单、物业接单、党员接单、党组织督单 — intake, dispatch, handling,
return visit, and the scheduled escalation of overdue demands to the street."""
