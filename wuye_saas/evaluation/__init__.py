"""Firm evaluation (考核评价): the district's versioned scoring standard, evaluation cycles
(月抽查、季测评、年度考核), self-reports → community review → street confirmation → district
finalization, assessors, resident satisfaction surveys, results (stars, 红/黄/黑榜), appeals and
their consequences."""
