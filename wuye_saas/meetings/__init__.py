"""Joint meetings (联席会议 / 板凳会议 / 三方项目推进组): attendees, agenda, decisions, action items,
minutes published to the compound's board, and matters passed up to the street's meeting."""
