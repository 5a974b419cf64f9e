DROP TABLE notifications;
DROP TABLE files;
DROP TABLE payments;
DROP TABLE service_requests;
DROP TABLE users;
