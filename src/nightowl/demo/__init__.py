"""The simulated demo platform (`nightowl serve --demo`): services with live metrics, health and incidents."""
