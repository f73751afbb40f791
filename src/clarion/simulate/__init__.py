"""The market simulator: a world with known truth to rehearse campaigns against."""
