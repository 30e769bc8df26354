"""党员志愿者 (双报到、认领、党员接单): a community's register of party members and volunteers, their
teams, the tasks they claim, the hours and points they earn and exchange."""
