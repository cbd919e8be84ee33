SSID = "arcade-test"
PSK = "not-a-secret"
COUNTRY = "GB"
