"""Protocol engines: I2C, SPI and UART at transaction level and at pin level."""
