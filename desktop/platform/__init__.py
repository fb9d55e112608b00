"""What ties the app to the desktop: theme, icon, crash reporter, start-up heap, self-test."""
