"""Follow-ups (待办督办): records someone must close — a committee term about to expire, an
evaluation's 约谈 or exit procedure. Created by jobs and workflows, closed by people."""
