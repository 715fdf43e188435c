DB_PASSWORD={{ getSecret "secrets/job/database" "admin_password" }}
PORT={{ get "vars/job/api" "port" }}
