"""Hostile and broken submissions of ps1, and the machinery to make and grade them."""
