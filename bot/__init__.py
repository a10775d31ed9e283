"""chatcrm: a chat-native CRM and loyalty bot for shop-front businesses."""
