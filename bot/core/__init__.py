"""The channel-neutral core: message values, ports, errors and the bus."""
