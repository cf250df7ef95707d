"""Router: the one writer of routing state; decides bot or person, queues and offers."""
