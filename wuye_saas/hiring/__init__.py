"""选聘: selecting a compound's firm by owners' vote or by tender."""
