#!/bin/sh
# busybox httpd runs /cgi-bin/index.cgi for a directory URL without index.html.
printf 'Content-Type: text/plain\r\n\r\n'
hostname
