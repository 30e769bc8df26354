"""Committee formation and 换届 with the district's vetting checklist, and the supervision of
committees that stop working (责令整改, 居委会代行职责)."""
