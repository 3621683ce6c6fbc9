{# 60-minute bars from the lake's minute bars (macros/bars/minute_windows.sql). #}

{{ minute_windows(60) }}
