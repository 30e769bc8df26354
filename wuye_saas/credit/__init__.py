"""信用档案: each firm's credit file in a district (records, grade, objections)."""
