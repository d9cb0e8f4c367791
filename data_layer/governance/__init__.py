"""Board governance: actions a board agrees (owner, due date, status, history) and notes on the charts."""
