def main() -> int:  # placeholder until the CLI lands
    return 0
