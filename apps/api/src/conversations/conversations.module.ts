import { Module } from '@nestjs/common';
import { BoardroomsModule } from '../boardrooms/boardrooms.module';
import { BoardroomConversationsController, ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

/** The conversation routes, on `ConversationStateModule` and `AiModule` (configured in `AppModule`). */
@Module({
  imports: [BoardroomsModule],
  controllers: [BoardroomConversationsController, ConversationsController],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {}
