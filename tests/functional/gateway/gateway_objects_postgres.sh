# gateway_objects.sh's checks with the gateway metadata on a throwaway
# PostgreSQL 15 whose gateway schema starts at version 2 (the upgrade to 3
# is checked first).
GW_OBJECTS_ENGINE=postgres
source "$(dirname "$0")/gateway_objects.sh"
