"""One module per dashboard page; each has a `page()` that draws it."""
