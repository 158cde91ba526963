"""Ticket systems the enhancements are written back to (application port TicketSystem)."""
