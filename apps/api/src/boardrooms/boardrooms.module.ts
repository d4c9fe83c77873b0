import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BoardroomMemberEntity } from './boardroom-member.entity';
import { BoardroomEntity } from './boardroom.entity';
import { BoardroomsController } from './boardrooms.controller';
import { BoardroomsService } from './boardrooms.service';

/** The boardrooms routes and their members. */
@Module({
  imports: [TypeOrmModule.forFeature([BoardroomEntity, BoardroomMemberEntity])],
  controllers: [BoardroomsController],
  providers: [BoardroomsService],
  exports: [BoardroomsService],
})
export class BoardroomsModule {}
