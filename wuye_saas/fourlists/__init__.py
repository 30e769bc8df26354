"""四项清单 (需求、资源、服务、责任) of each community and year, with the year's priority projects
(为民服务项目清单) and their progress."""
